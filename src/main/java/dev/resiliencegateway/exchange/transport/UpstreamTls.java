package dev.resiliencegateway.exchange.transport;

import java.security.GeneralSecurityException;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

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
	 * An SSL context from a bundle's managers. Without host name checks the certificate chain is still
	 * checked (a certificate from an untrusted CA fails): the upstream client then asks HttpClient for
	 * no name check and the JDK for none either ({@code PerPoolTls}).
	 */
	public static UpstreamTls of(String protocol, KeyManager[] keys, TrustManager[] trust, boolean verifyHostname)
			throws GeneralSecurityException {
		SSLContext context = SSLContext.getInstance(protocol);
		context.init(keys, trust, null);
		return new UpstreamTls(context, verifyHostname);
	}

}
