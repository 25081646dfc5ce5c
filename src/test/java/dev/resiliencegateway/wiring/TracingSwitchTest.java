package dev.resiliencegateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** Which auto-configurations the tracing switch leaves out, by setting. */
class TracingSwitchTest {

	private static final String[] CANDIDATES = {
			"org.springframework.boot.actuate.autoconfigure.tracing.MicrometerTracingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.logging.otlp.OtlpLoggingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.observation.web.servlet.WebMvcObservationAutoConfiguration",
			"org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration", null };

	private static boolean[] match(MockEnvironment environment) {
		TracingSwitch filter = new TracingSwitch();
		filter.setEnvironment(environment);
		return filter.match(CANDIDATES, null);
	}

	@Test
	void tracingOffLeavesOutTheTracerTheSdkAndOtlpLogs() {
		assertThat(match(new MockEnvironment().withProperty("management.tracing.enabled", "false")
			.withProperty("management.observations.enable.http.server.requests", "false")))
			.containsExactly(false, false, false, false, true, true);
	}

	@Test
	void anOtlpLoggingEndpointKeepsTheSdkAndItsExportWithoutATracer() {
		assertThat(match(new MockEnvironment().withProperty("management.tracing.enabled", "false")
			.withProperty("management.observations.enable.http.server.requests", "false")
			.withProperty("management.otlp.logging.endpoint", "http://collector.internal:4318/v1/logs")))
			.containsExactly(false, true, true, false, true, true);
	}

	@Test
	void tracingOnKeepsEverything() {
		assertThat(match(new MockEnvironment().withProperty("management.tracing.enabled", "true")))
			.containsExactly(true, true, true, true, true, true);
	}

}
