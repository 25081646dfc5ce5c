package dev.resiliencegateway.idempotency;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the first request with a key ended with, as a retry with that key gets it back.
 *
 * @param kind whether the replica's answer was kept, was too large to keep, or the outcome is unknown
 * @param fingerprint the first request's {@link Fingerprint}; a retry with another body gets 422
 * @param status the status the first request's client got
 * @param headers the answer's end-to-end header fields, name and value alternating
 * @param body the answer's body ({@link Kind#ANSWER} only)
 * @param detail for {@link Kind#UNKNOWN} and {@link Kind#TOO_LARGE}: what happened, for the problem
 */
public record StoredAnswer(Kind kind, String fingerprint, int status, List<String> headers, byte[] body, String detail) {

	public enum Kind {
		/** The replica answered; its answer is kept whole. */
		ANSWER,
		/** The replica answered, but with a body larger than the route keeps. */
		TOO_LARGE,
		/**
		 * The request may have reached a replica, but no answer came back (a timeout, a reset after
		 * sending, a body that broke off): it may have executed, so it is never sent again.
		 */
		UNKNOWN
	}

	public static StoredAnswer answer(String fingerprint, int status, List<String> headers, byte[] body) {
		return new StoredAnswer(Kind.ANSWER, fingerprint, status, List.copyOf(headers), body, null);
	}

	public static StoredAnswer tooLarge(String fingerprint, int status, String detail) {
		return new StoredAnswer(Kind.TOO_LARGE, fingerprint, status, List.of(), new byte[0], detail);
	}

	public static StoredAnswer unknown(String fingerprint, int status, String detail) {
		return new StoredAnswer(Kind.UNKNOWN, fingerprint, status, List.of(), new byte[0], detail);
	}

	private static final int FORMAT = 1;

	/** A compact binary form for a shared store. */
	public byte[] encode() {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + body.length);
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.writeByte(FORMAT);
			out.writeByte(kind.ordinal());
			out.writeUTF(fingerprint);
			out.writeShort(status);
			out.writeUTF(detail == null ? "" : detail);
			out.writeShort(headers.size());
			for (String h : headers) {
				out.writeUTF(h);
			}
			out.writeInt(body.length);
			out.write(body);
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
		return bytes.toByteArray();
	}

	/** @throws IllegalArgumentException for bytes that are not an encoded answer */
	public static StoredAnswer decode(byte[] encoded) {
		try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
			if (in.readByte() != FORMAT) {
				throw new IllegalArgumentException("unknown stored answer format");
			}
			Kind kind = Kind.values()[in.readByte()];
			String fingerprint = in.readUTF();
			int status = in.readShort();
			String detail = in.readUTF();
			int n = in.readShort();
			List<String> headers = new ArrayList<>(n);
			for (int i = 0; i < n; i++) {
				headers.add(in.readUTF());
			}
			byte[] body = in.readNBytes(in.readInt());
			return new StoredAnswer(kind, fingerprint, status, List.copyOf(headers), body, detail.isEmpty() ? null : detail);
		}
		catch (IOException | RuntimeException e) {
			throw new IllegalArgumentException("not a stored answer: " + e.getMessage(), e);
		}
	}

}
