package dev.resiliencegateway.config;

import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Turns a bad gateway setting into Boot's "APPLICATION FAILED TO START" report, without a stack
 * trace. The action names where the bad value was set (a file and line, an environment variable, a
 * command-line argument) when Spring Boot knows it.
 */
class InvalidConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigurationException> {

	private final Environment environment;

	/** Boot passes the application's environment to a failure analyzer whose one constructor asks for it. */
	InvalidConfigurationFailureAnalyzer(Environment environment) {
		this.environment = environment;
	}

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigurationException cause) {
		String origin = origin(cause.key());
		String where = origin != null ? " where it is set: " + origin
				: " in the gateway's configuration (application.yml, a file given with --spring.config.additional-location, "
						+ "an environment variable or a command-line argument)";
		return new FailureAnalysis("Invalid gateway configuration: " + cause.getMessage(), "Set " + cause.key() + " to "
				+ cause.expected() + where + ". Keys left out take the defaults in the README's configuration reference.",
				cause);
	}

	private String origin(String key) {
		if (environment == null || !ConfigurationPropertyName.isValid(key)) {
			return null;
		}
		ConfigurationPropertyName name = ConfigurationPropertyName.of(key);
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
			ConfigurationProperty property = source.getConfigurationProperty(name);
			if (property != null && property.getOrigin() != null) {
				return property.getOrigin().toString();
			}
		}
		return null;
	}

}
