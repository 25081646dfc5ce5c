package dev.resiliencegateway.it.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates made for one test run: a CA and the certificates it signs, in memory and as PEM files. */
public final class TestCertificates {

	private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

	/** A key pair and its certificate chain (leaf first). */
	public record Identity(KeyPair keys, X509Certificate certificate, X509Certificate issuer) {

		/** The certificate (and its issuer's) and the private key as PEM files in {@code dir}. */
		public Path[] writePem(Path dir, String name) throws IOException {
			Path cert = dir.resolve(name + ".crt");
			Path key = dir.resolve(name + ".key");
			Files.writeString(cert, pem(certificate) + (issuer != null && issuer != certificate ? pem(issuer) : ""));
			Files.writeString(key, pem(keys.getPrivate()));
			return new Path[] { cert, key };
		}

		/** A server or client SSL context showing this identity and trusting {@code trusted} (or nothing). */
		public SSLContext sslContext(X509Certificate trusted) throws GeneralSecurityException, IOException {
			KeyStore ks = KeyStore.getInstance("PKCS12");
			ks.load(null, null);
			X509Certificate[] chain = issuer != null && issuer != certificate
					? new X509Certificate[] { certificate, issuer } : new X509Certificate[] { certificate };
			ks.setKeyEntry("me", keys.getPrivate(), "x".toCharArray(), chain);
			KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
			kmf.init(ks, "x".toCharArray());
			TrustManagerFactory tmf = null;
			if (trusted != null) {
				tmf = trustManagers(trusted);
			}
			SSLContext context = SSLContext.getInstance("TLS");
			context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
			return context;
		}

	}

	private TestCertificates() {
	}

	static TrustManagerFactory trustManagers(X509Certificate trusted) throws GeneralSecurityException, IOException {
		KeyStore ts = KeyStore.getInstance("PKCS12");
		ts.load(null, null);
		ts.setCertificateEntry("ca", trusted);
		TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
		tmf.init(ts);
		return tmf;
	}

	/** A client SSL context that trusts {@code trusted} and shows no certificate. */
	public static SSLContext trusting(X509Certificate trusted) throws GeneralSecurityException, IOException {
		SSLContext context = SSLContext.getInstance("TLS");
		context.init(null, trustManagers(trusted).getTrustManagers(), null);
		return context;
	}

	public static Identity authority(String name) throws Exception {
		KeyPair keys = keys();
		X509v3CertificateBuilder b = builder(new X500Name("CN=" + name), new X500Name("CN=" + name), keys);
		b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
		X509Certificate cert = sign(b, keys);
		return new Identity(keys, cert, cert);
	}

	/** A certificate signed by {@code ca} for these names ("127.0.0.1" and other addresses as IP names). */
	public static Identity issue(Identity ca, String commonName, List<String> names) throws Exception {
		KeyPair keys = keys();
		X509v3CertificateBuilder b = builder(new X500Name(ca.certificate().getSubjectX500Principal().getName()),
				new X500Name("CN=" + commonName), keys);
		if (!names.isEmpty()) {
			GeneralName[] sans = names.stream()
				.map(n -> n.matches("[0-9.]+") ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n))
				.toArray(GeneralName[]::new);
			b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
		}
		return new Identity(keys, sign(b, ca.keys()), ca.certificate());
	}

	private static KeyPair keys() throws GeneralSecurityException {
		KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
		g.initialize(256);
		return g.generateKeyPair();
	}

	private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
		Instant now = Instant.now();
		return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
				Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
	}

	private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws Exception {
		return new JcaX509CertificateConverter()
			.getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
	}

	static String pem(Object o) throws IOException {
		StringWriter out = new StringWriter();
		try (JcaPEMWriter w = new JcaPEMWriter(out)) {
			w.writeObject(o instanceof java.security.PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : o);
		}
		return out.toString();
	}

}
