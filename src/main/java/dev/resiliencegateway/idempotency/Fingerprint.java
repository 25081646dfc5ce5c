package dev.resiliencegateway.idempotency;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What makes two requests with one key the same request: method, target (path and query) and body,
 * hashed with SHA-256. The same key with another fingerprint is a client's mistake (422).
 */
public final class Fingerprint {

	private Fingerprint() {
	}

	public static String of(String method, String target, byte[] body) {
		MessageDigest sha;
		try {
			sha = MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("every JDK has SHA-256", e);
		}
		sha.update(method.getBytes(StandardCharsets.US_ASCII));
		sha.update((byte) 0);
		sha.update(target.getBytes(StandardCharsets.UTF_8));
		sha.update((byte) 0);
		sha.update(body);
		return HexFormat.of().formatHex(sha.digest());
	}

	/** A short, non-reversible form of a client's credential, to scope keys by client without storing it. */
	public static String ofClient(String credential) {
		return of("CLIENT", credential, new byte[0]).substring(0, 32);
	}

}
