package dev.resiliencegateway.pool;

import java.net.URI;
import java.util.Objects;

/**
 * One replica of a pool: where it lives and its static weight.
 *
 * @param id stable name, {@code host:port}, used in logs, metrics and the admin endpoint
 * @param uri base URI ({@code http://host:port} with an optional path prefix)
 * @param weight static weight, at least 1 (default 1)
 */
public record Replica(String id, URI uri, int weight) {

	public Replica {
		Objects.requireNonNull(id, "id");
		Objects.requireNonNull(uri, "uri");
		if (weight < 1) {
			throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
		}
	}

	public static Replica of(URI uri, int weight) {
		int port = uri.getPort() != -1 ? uri.getPort() : ("https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80);
		return new Replica(uri.getHost() + ":" + port, uri, weight);
	}

}
