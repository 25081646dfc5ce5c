package dev.resiliencegateway.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * {@code /actuator/status}: the live status page, one self-contained HTML file (plain JavaScript, no
 * build step) that polls {@code /actuator/replicas} every second and posts the operator's actions
 * to it. Served as an actuator endpoint so it lives on the management port with the data it shows.
 */
@WebEndpoint(id = "status")
public class StatusPageEndpoint {

	private final String page;

	public StatusPageEndpoint() {
		try (InputStream in = StatusPageEndpoint.class.getResourceAsStream("/status/status.html")) {
			this.page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	@ReadOperation(produces = "text/html;charset=UTF-8")
	public String page() {
		return page;
	}

}
