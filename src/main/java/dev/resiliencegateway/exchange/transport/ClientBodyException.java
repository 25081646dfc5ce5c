package dev.resiliencegateway.exchange.transport;

import java.io.IOException;

/**
 * The client's request body could not be taken as sent: too large (413), too slow (408), or it
 * broke off or was malformed (400). The upstream request it was feeding, if any, has been aborted
 * before this is thrown, so the replica never sees it completed.
 */
public final class ClientBodyException extends IOException {

	private final int status;

	ClientBodyException(int status, String detail, Throwable cause) {
		super(detail, cause);
		this.status = status;
	}

	@Override
	public synchronized Throwable fillInStackTrace() {
		return this; // an expected outcome of bad input, not a bug: no stack trace to fill
	}

	ClientBodyException(int status, String detail) {
		this(status, detail, null);
	}

	public int status() {
		return status;
	}

	/** Classifies a failed read of the client's body. */
	static ClientBodyException of(IOException e) {
		if (e instanceof ClientBodyException c) {
			return c;
		}
		for (Throwable t = e; t != null; t = t.getCause()) {
			if (t instanceof java.net.SocketTimeoutException) {
				return new ClientBodyException(408, "the client sent its request body too slowly", e);
			}
		}
		return new ClientBodyException(400, "the request body could not be read: " + e.getMessage(), e);
	}

}
