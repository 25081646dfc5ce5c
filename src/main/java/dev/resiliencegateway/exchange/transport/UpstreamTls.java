package dev.resiliencegateway.exchange.transport;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * How the gateway talks TLS to one pool's replicas: the SSL context (which certificates it trusts,
 * which client certificate it shows) and whether a replica's certificate must name the host of its
 * URL. {@code null} where a pool sets nothing: the JDK's trusted CAs, no client certificate, host
 * names checked.
 *
 * @param context trust and key material, built once per setting (an SSL context is costly to make)
 * @param verifyHostname check the certificate's names against the URL's host
 */
public record UpstreamTls(SSLContext context, boolean verifyHostname) {

	/**
	 * An SSL context from a bundle's managers. Without host name checks its trust managers still
	 * check the chain (a certificate from an untrusted CA fails) but not the names: both the upstream
	 * client and the health checks' JDK client ask the trust manager for the check, and the JDK
	 * client has no per-client switch for it.
	 */
	public static UpstreamTls of(String protocol, KeyManager[] keys, TrustManager[] trust, boolean verifyHostname)
			throws GeneralSecurityException {
		SSLContext context = SSLContext.getInstance(protocol);
		TrustManager[] managers = trust;
		if (!verifyHostname && trust != null) {
			managers = new TrustManager[trust.length];
			for (int i = 0; i < trust.length; i++) {
				managers[i] = trust[i] instanceof X509TrustManager x509 ? new ChainOnly(x509) : trust[i];
			}
		}
		context.init(keys, managers, null);
		return new UpstreamTls(context, verifyHostname);
	}

	/**
	 * Checks the certificate chain and nothing else. Hand-written because the JDK's trust manager
	 * checks names whenever the connection asks for it (the SSL engine's overloads), and neither the
	 * JDK's HTTP client nor a subclass can switch that off for one client only.
	 */
	private static final class ChainOnly extends X509ExtendedTrustManager {

		private final X509TrustManager delegate;

		ChainOnly(X509TrustManager delegate) {
			this.delegate = delegate;
		}

		@Override
		public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
			delegate.checkClientTrusted(chain, authType);
		}

		@Override
		public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
			delegate.checkServerTrusted(chain, authType);
		}

		@Override
		public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
			delegate.checkClientTrusted(chain, authType);
		}

		@Override
		public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
			delegate.checkServerTrusted(chain, authType);
		}

		@Override
		public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
			delegate.checkClientTrusted(chain, authType);
		}

		@Override
		public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
			delegate.checkServerTrusted(chain, authType);
		}

		@Override
		public X509Certificate[] getAcceptedIssuers() {
			return delegate.getAcceptedIssuers();
		}

	}

}
