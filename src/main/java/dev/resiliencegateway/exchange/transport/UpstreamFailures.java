package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.NoHttpResponseException;

import dev.resiliencegateway.edge.EdgeRules;
import dev.resiliencegateway.outcome.Outcome;

/** What a failed attempt on the upstream hop was: an outcome for the replica's health, a detail for the problem. */
final class UpstreamFailures {

	private UpstreamFailures() {
	}

	/**
	 * Whether a failure is the keep-alive race rather than the replica failing: the request went out
	 * on a connection that had already carried a response, and the connection was closed or reset
	 * before a byte of the answer came back. A server may close an idle keep-alive connection at any
	 * time (RFC 9112 section 9.3.1; the JDK's HttpServer closes idle connections beyond 200 at once,
	 * others after their keep-alive timeout or request count), and a request sent as the close is in
	 * flight meets it. Such a failure says nothing about the replica, so a request without a body
	 * that may be repeated is sent again, on the next pooled or a new connection, and nothing is
	 * recorded against the replica. HttpClient's own retry strategy cannot tell a reused connection
	 * from a new one, and the exchange's retries would count the failure and move to another replica.
	 */
	static boolean closedWhileIdle(Throwable e, EndpointDetails connection) {
		if (connection == null || connection.getRequestCount() < 2
				|| connection.getResponseCount() >= connection.getRequestCount()) {
			return false;
		}
		if (e instanceof NoHttpResponseException) {
			return true;
		}
		String message = e.getMessage();
		return e instanceof SocketException && !(e instanceof ConnectException) && message != null
				&& (message.contains("reset") || message.contains("Broken pipe"));
	}

	/**
	 * Maps a failure of the upstream hop to an outcome; connect failures are only those where nothing
	 * was sent. A failed TLS handshake (an untrusted certificate, a name that does not match) comes
	 * before any byte of the request too. (A client certificate the replica refuses shows only after
	 * the request went out, in TLS 1.3: a reset.)
	 */
	static Outcome classify(Throwable e) {
		if (e instanceof javax.net.ssl.SSLHandshakeException || e instanceof javax.net.ssl.SSLPeerUnverifiedException) {
			return Outcome.TLS_FAILURE;
		}
		if (e instanceof ConnectTimeoutException || e instanceof ConnectException || e instanceof NoRouteToHostException
				|| e instanceof UnknownHostException
				|| e instanceof org.apache.hc.core5.http.ConnectionRequestTimeoutException
				|| e instanceof UnsolicitedBytes.Found) {
			return Outcome.CONNECT_FAILURE;
		}
		if (e instanceof SocketTimeoutException || (e instanceof InterruptedIOException && !(e.getCause() instanceof IOException))) {
			return Outcome.TIMEOUT;
		}
		return Outcome.RESET;
	}

	/**
	 * The failure as the problem's detail and the log show it: a parse error quotes the replica's line,
	 * which may be 64 KB long or hold control characters, so at most 160 printable characters of it.
	 */
	static String describe(Throwable e) {
		String msg = e.getMessage();
		return e.getClass().getSimpleName() + (msg == null ? "" : ": " + EdgeRules.printable(msg, 160));
	}

}
