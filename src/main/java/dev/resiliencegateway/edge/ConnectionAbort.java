package dev.resiliencegateway.edge;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;

/**
 * Lets the gateway cut a client connection without finishing the response: no last chunk, no
 * padding, no error page appended. That is how a client learns that a response it already started
 * to receive is incomplete (a replica broke off mid-body). Throwing instead would make Tomcat
 * "include" the error page after the bytes already sent: a spliced answer.
 *
 * <p>The servlet API has no such operation, so this Tomcat valve hands each request a handle to
 * Tomcat's own {@code CLOSE_NOW} action (what Tomcat's ErrorReportValve does for a committed
 * response), through a request attribute.
 */
public final class ConnectionAbort extends ValveBase {

	static final String ATTRIBUTE = ConnectionAbort.class.getName();

	public ConnectionAbort() {
		super(true);
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		request.setAttribute(ATTRIBUTE, (Runnable) () -> response.getCoyoteResponse().action(ActionCode.CLOSE_NOW, null));
		getNext().invoke(request, response);
	}

	/**
	 * Closes the client connection now: what was flushed stays sent, nothing more is written.
	 *
	 * @return false when the container offers no way to do it (not Tomcat)
	 */
	public static boolean abort(HttpServletRequest request) {
		if (request.getAttribute(ATTRIBUTE) instanceof Runnable close) {
			close.run();
			return true;
		}
		return false;
	}

}
