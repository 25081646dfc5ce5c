package dev.resiliencegateway.exchange.transport;

import java.io.IOException;

import javax.net.ssl.SSLException;

import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpStatus;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.io.HttpClientConnection;
import org.apache.hc.core5.http.io.HttpResponseInformationCallback;
import org.apache.hc.core5.http.message.MessageSupport;
import org.apache.hc.core5.http.message.StatusLine;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.io.Closer;

/**
 * One request and its answer on a connection: what HttpCore's {@code HttpRequestExecutor} does,
 * plus the answer a replica gives before it has taken the whole body. A replica that refuses an
 * upload (413, 401, 403, 429) often answers as soon as it has read the head, then closes the
 * connection with the body unread: the gateway's next write of the body fails (a reset or a broken
 * pipe) while the answer waits in the socket. {@code HttpRequestExecutor} closes the connection on
 * any failure while sending, so that answer was lost and the client got a 502 for a body larger than
 * the sockets' buffers (about 200 KB here), counted against a replica that had answered correctly.
 * nginx relays it (RFC 9112 section 9.6: a client "SHOULD monitor the network connection for an error
 * response while it is transmitting the request"). Here, when a write of the body fails and the
 * connection is still open, its answer is read; if there is one, it is the attempt's answer and the
 * connection is closed after it ({@link #BODY_CUT}), since the replica never got the whole body.
 * Written by hand because {@code HttpRequestExecutor} offers no hook between its failed send and
 * its closing of the connection.
 *
 * <p>A failure of the client's side ({@link ClientBodyException}) is not the replica's: the
 * upstream request was aborted before it was thrown, and no answer is read.
 */
final class UpstreamExecutor {

	/** Context attribute set when the answer came before the whole body was sent. */
	static final String BODY_CUT = "resilience.gateway.body-cut";

	private UpstreamExecutor() {
	}

	static ClassicHttpResponse execute(ClassicHttpRequest request, HttpClientConnection conn,
			HttpResponseInformationCallback informationCallback, HttpContext localContext)
			throws IOException, HttpException {
		HttpCoreContext context = HttpCoreContext.castOrCreate(localContext);
		try {
			context.setSSLSession(conn.getSSLSession());
			context.setEndpointDetails(conn.getEndpointDetails());
			conn.sendRequestHeader(request);
			if (request.getEntity() != null) {
				try {
					conn.sendRequestEntity(request);
					conn.flush();
				}
				catch (IOException e) {
					if (e instanceof ClientBodyException || !conn.isOpen()) {
						throw e;
					}
					ClassicHttpResponse early;
					try {
						early = receive(request, conn, informationCallback, context);
					}
					catch (IOException | HttpException none) {
						e.addSuppressed(none);
						throw e; // no answer after all: the failed write is the attempt's failure
					}
					context.setAttribute(BODY_CUT, Boolean.TRUE);
					return early;
				}
			}
			else {
				conn.flush();
			}
			return receive(request, conn, informationCallback, context);
		}
		catch (HttpException | SSLException e) {
			Closer.closeQuietly(conn);
			throw e;
		}
		catch (IOException | RuntimeException e) {
			Closer.close(conn, CloseMode.IMMEDIATE);
			throw e;
		}
	}

	/** Reads the answer's head, passing over interim (1xx) ones, and binds its body. */
	private static ClassicHttpResponse receive(ClassicHttpRequest request, HttpClientConnection conn,
			HttpResponseInformationCallback informationCallback, HttpContext context) throws IOException, HttpException {
		while (true) {
			ClassicHttpResponse response = conn.receiveResponseHeader();
			int status = response.getCode();
			if (status < HttpStatus.SC_INFORMATIONAL) {
				throw new ProtocolException("Invalid response: " + new StatusLine(response));
			}
			if (status >= HttpStatus.SC_SUCCESS) {
				if (MessageSupport.canResponseHaveBody(request.getMethod(), response)) {
					conn.receiveResponseEntity(response);
				}
				return response;
			}
			if (informationCallback != null && status != HttpStatus.SC_CONTINUE) {
				informationCallback.execute(response, conn, context);
			}
		}
	}

}
