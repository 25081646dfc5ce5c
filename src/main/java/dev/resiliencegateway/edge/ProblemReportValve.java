package dev.resiliencegateway.edge;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;

/**
 * Tomcat's own refusals (a request it cannot parse, a header it rejects, a method it does not
 * serve) answered as problem+json with a request id, like every other error of the gateway, in
 * place of Tomcat's HTML error page. They happen before any filter runs, so the request id is a
 * fresh one. Replaces the {@link ErrorReportValve} of the host (Boot's, with report and server info
 * off); nothing about the request is echoed back.
 */
public final class ProblemReportValve extends ErrorReportValve {

	@Override
	protected void report(Request request, Response response, Throwable throwable) {
		int status = response.getStatus();
		if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
			return;
		}
		AtomicBoolean ioAllowed = new AtomicBoolean(false);
		response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
		if (!ioAllowed.get()) {
			return;
		}
		try {
			// the id of a request the id filter saw, else a fresh one
			ProblemWriter.write(response, status, ProblemWriter.title(status),
					"the request was refused by the server before it reached a route", RequestIds.of(request), false);
			response.finishResponse();
		}
		catch (IOException | IllegalStateException e) {
			// the client is gone, or the response could not take a body: nothing more to tell
		}
	}

}
