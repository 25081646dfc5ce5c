package dev.resiliencegateway.config;

/** A configuration value the gateway cannot start with: names the key, the value and what is expected. */
public class InvalidConfigurationException extends RuntimeException {

	private final String key;

	private final Object value;

	private final String expected;

	public InvalidConfigurationException(String key, Object value, String expected) {
		super(key + ": " + (value instanceof String ? "'" + value + "'" : value) + " (expected: " + expected + ")");
		this.key = key;
		this.value = value;
		this.expected = expected;
	}

	public String key() {
		return key;
	}

	public Object value() {
		return value;
	}

	public String expected() {
		return expected;
	}

}
