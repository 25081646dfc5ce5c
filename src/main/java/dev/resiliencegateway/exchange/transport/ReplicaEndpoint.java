package dev.resiliencegateway.exchange.transport;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.net.URIAuthority;

/** Where a replica's requests go: its host, HttpClient's route to it, and the path it is mounted at. */
record ReplicaEndpoint(HttpHost host, URIAuthority authority, HttpRoute route, String pathPrefix) {

	/**
	 * Endpoints by replica address, built once rather than per attempt (HttpClient's host and authority
	 * types lower-case the host name when made: 1 % of the CPU per request). Bounded: replicas come and
	 * go with discovery, so past this many addresses the map starts again.
	 */
	private static final int MAX_CACHED = 4096;

	private static final Map<URI, ReplicaEndpoint> CACHE = new ConcurrentHashMap<>();

	static ReplicaEndpoint of(URI replica) {
		ReplicaEndpoint e = CACHE.get(replica);
		if (e == null) {
			if (CACHE.size() >= MAX_CACHED) {
				CACHE.clear();
			}
			e = build(replica);
			CACHE.put(replica, e);
		}
		return e;
	}

	private static ReplicaEndpoint build(URI replica) {
		boolean tls = "https".equalsIgnoreCase(replica.getScheme());
		int port = replica.getPort() > 0 ? replica.getPort() : tls ? 443 : 80;
		HttpHost host = new HttpHost(tls ? "https" : "http", replica.getHost(), port);
		String prefix = replica.getRawPath() == null || replica.getRawPath().equals("/") ? "" : replica.getRawPath();
		return new ReplicaEndpoint(host, new URIAuthority(host), new HttpRoute(host, null, tls), prefix);
	}

}
