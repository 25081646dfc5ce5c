package dev.resiliencegateway.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * The value checks every part of the configuration shares: each returns the value (or the default
 * when it was left out) or throws one {@link InvalidConfigurationException} naming the key.
 */
final class ConfigChecks {

	private ConfigChecks() {
	}

	/**
	 * A size within bounds. The upper bounds stay below the buffers the gateway gives Tomcat (32KB for a
	 * request head, 16KB for a response head), so the gateway's limit, with its precise status, comes
	 * first. Tomcat allocates those buffers for every connection it serves, so they are kept small.
	 */
	static int size(String key, org.springframework.util.unit.DataSize value, int dflt, int min, int max) {
		if (value == null) {
			return dflt;
		}
		long bytes = value.toBytes();
		if (bytes < min || bytes > max) {
			throw new InvalidConfigurationException(key, value.toString(), "a size from " + min / 1024 + "KB to " + max / 1024 + "KB");
		}
		return (int) bytes;
	}

	static Duration nonNegative(String key, Duration value, Duration fallback) {
		if (value == null) {
			return fallback;
		}
		if (value.isNegative()) {
			throw new InvalidConfigurationException(key, value.toString(), "0 or a positive duration such as 25ms");
		}
		return value;
	}

	static URI replicaUrl(String key, String url) {
		String expected = "an absolute http or https URL such as http://orders-1.internal:8080";
		if (url == null || url.isBlank()) {
			throw new InvalidConfigurationException(key, url == null ? "(none)" : url, expected);
		}
		try {
			URI uri = new URI(url.trim());
			String scheme = uri.getScheme();
			if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
					|| uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null
					|| uri.getRawUserInfo() != null) {
				throw new InvalidConfigurationException(key, url, expected + ", without user info, query or fragment");
			}
			String path = uri.getRawPath() == null ? "" : uri.getRawPath();
			String prefix = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
			return URI.create(scheme.toLowerCase() + "://" + uri.getRawAuthority() + prefix);
		}
		catch (URISyntaxException e) {
			throw new InvalidConfigurationException(key, url, expected);
		}
	}

	static Duration positive(String key, Duration value, Duration fallback) {
		if (value == null) {
			return fallback;
		}
		if (value.isNegative() || value.isZero()) {
			throw new InvalidConfigurationException(key, value.toString(), "a positive duration such as 500ms or 2s");
		}
		return value;
	}

	static int atLeast(String key, Integer value, int fallback, int min) {
		if (value == null) {
			return fallback;
		}
		if (value < min) {
			throw new InvalidConfigurationException(key, value, ">= " + min);
		}
		return value;
	}

	static int percent(String key, Integer value, int fallback) {
		if (value == null) {
			return fallback;
		}
		if (value < 0 || value > 100) {
			throw new InvalidConfigurationException(key, value, ">= 0 and <= 100");
		}
		return value;
	}

}
