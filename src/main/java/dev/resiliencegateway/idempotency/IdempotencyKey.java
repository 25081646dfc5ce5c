package dev.resiliencegateway.idempotency;

import java.util.List;

/**
 * The {@code Idempotency-Key} request header (draft-ietf-httpapi-idempotency-key-header): a
 * Structured Field string such as {@code "8e03978e-40d5-43e8-bc93-6894a57f9324"}. A bare token
 * without quotes, as payment APIs' clients send it, is accepted too; both spellings of one key are
 * the same key.
 */
public final class IdempotencyKey {

	public static final String HEADER = "Idempotency-Key";

	/** Longest key accepted, in characters (a UUID is 36). */
	public static final int MAX_LENGTH = 255;

	private IdempotencyKey() {
	}

	/** A header value that is not a usable key; the message says why, for a 400. */
	public static final class InvalidKeyException extends Exception {

		InvalidKeyException(String message) {
			super(message, null, false, false);
		}

	}

	/**
	 * @param values the request's {@code Idempotency-Key} field lines
	 * @return the key
	 * @throws InvalidKeyException for more than one field line, an empty key, one longer than
	 * {@value #MAX_LENGTH} characters, or characters outside printable ASCII
	 */
	public static String parse(List<String> values) throws InvalidKeyException {
		if (values.size() != 1) {
			throw new InvalidKeyException("one Idempotency-Key header is expected, the request has " + values.size());
		}
		String v = values.get(0).strip();
		String key;
		if (v.startsWith("\"")) {
			key = unquote(v);
		}
		else {
			for (int i = 0; i < v.length(); i++) {
				char c = v.charAt(i);
				if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',' || c == ';') {
					throw new InvalidKeyException("the Idempotency-Key has a character not allowed in a key (position "
							+ (i + 1) + "); send a Structured Field string such as \"8e03978e-40d5-43e8-bc93-6894a57f9324\"");
				}
			}
			key = v;
		}
		if (key.isEmpty()) {
			throw new InvalidKeyException("the Idempotency-Key is empty");
		}
		if (key.length() > MAX_LENGTH) {
			throw new InvalidKeyException("the Idempotency-Key is " + key.length() + " characters long; at most "
					+ MAX_LENGTH + " are accepted");
		}
		return key;
	}

	/** An RFC 8941 string: printable ASCII between quotes, with {@code \"} and {@code \\} as the only escapes. */
	private static String unquote(String v) throws InvalidKeyException {
		StringBuilder key = new StringBuilder(v.length());
		int i = 1;
		while (true) {
			if (i >= v.length()) {
				throw new InvalidKeyException("the Idempotency-Key string has no closing quote");
			}
			char c = v.charAt(i++);
			if (c == '"') {
				if (i != v.length()) {
					throw new InvalidKeyException("the Idempotency-Key has characters after its closing quote");
				}
				return key.toString();
			}
			if (c == '\\') {
				if (i >= v.length() || (v.charAt(i) != '"' && v.charAt(i) != '\\')) {
					throw new InvalidKeyException("the Idempotency-Key string has an escape other than \\\" or \\\\");
				}
				c = v.charAt(i++);
			}
			else if (c < 0x20 || c >= 0x7f) {
				throw new InvalidKeyException("the Idempotency-Key has a character outside printable ASCII");
			}
			key.append(c);
		}
	}

}
