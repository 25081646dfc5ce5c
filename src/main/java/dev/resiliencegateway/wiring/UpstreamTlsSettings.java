package dev.resiliencegateway.wiring;

import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;

import dev.resiliencegateway.config.GatewayConfig.PoolConfig;
import dev.resiliencegateway.config.GatewayConfig.TlsSettings;
import dev.resiliencegateway.exchange.transport.UpstreamTls;

/**
 * Each pool's TLS to its https replicas, read from the pool's current configuration (a refresh may
 * change it) and built from its Spring Boot SSL bundle once per setting. A bundle that Boot reloads
 * (its {@code reload-on-update}) is built again for new connections.
 */
public final class UpstreamTlsSettings {

	private final SslBundles bundles;

	private final Map<TlsSettings, UpstreamTls> built = new ConcurrentHashMap<>();

	private volatile PoolRegistry pools;

	/** Bundles whose updates are watched (one handler each). */
	private final java.util.Set<String> watched = ConcurrentHashMap.newKeySet();

	UpstreamTlsSettings(SslBundles bundles) {
		this.bundles = bundles;
	}

	void setPools(PoolRegistry pools) {
		this.pools = pools;
	}

	/** The pool's TLS, or {@code null} where it names no bundle (the JDK's trusted CAs, host names checked). */
	public UpstreamTls forPool(String pool) {
		PoolRegistry registry = pools;
		PoolConfig pc = registry == null ? null : registry.config(pool);
		if (pc == null || pc.tls().bundle() == null || bundles == null) {
			return null;
		}
		return built.computeIfAbsent(pc.tls(), this::build);
	}

	private UpstreamTls build(TlsSettings settings) {
		SslBundle bundle = bundles.getBundle(settings.bundle());
		String name = settings.bundle();
		if (watched.add(name)) {
			bundles.addBundleUpdateHandler(name, updated -> built.keySet().removeIf(k -> name.equals(k.bundle())));
		}
		try {
			return UpstreamTls.of(bundle.getProtocol(), bundle.getManagers().getKeyManagers(),
					bundle.getManagers().getTrustManagers(), settings.verifyHostname());
		}
		catch (GeneralSecurityException e) {
			throw new IllegalStateException("SSL bundle '" + settings.bundle() + "': " + e.getMessage(), e);
		}
	}

}
