package dev.resiliencegateway.wiring;

import java.util.Set;

import org.springframework.boot.autoconfigure.AutoConfigurationImportFilter;
import org.springframework.boot.autoconfigure.AutoConfigurationMetadata;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Tracing off ({@code management.tracing.enabled: false}, the gateway's default) means no tracer at
 * all. Spring Boot reads that switch for exporting and propagating only: with Micrometer Tracing on
 * the classpath it still builds an OpenTelemetry tracer and puts its handlers on every observation,
 * so every request made a span that nobody exported (and the Prometheus registry sampled exemplars
 * from it): 12-40 % more CPU per request in a side-by-side run (docs/performance.md, "Tracing").
 * Those auto-configurations are left out here while the switch is off; on, they run as Boot ships
 * them.
 */
public final class TracingSwitch implements AutoConfigurationImportFilter, EnvironmentAware {

	/** What builds a tracer, its handlers, its SDK and what samples from it. */
	static final Set<String> TRACING = Set.of(
			"org.springframework.boot.actuate.autoconfigure.tracing.MicrometerTracingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.NoopTracerAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.OpenTelemetryTracingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.BraveAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.otlp.OtlpTracingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.zipkin.ZipkinAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.wavefront.WavefrontTracingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.tracing.prometheus.PrometheusExemplarsAutoConfiguration");

	/** The OpenTelemetry SDK and its log export (a batch thread): only needed with tracing or OTLP logs. */
	static final Set<String> SDK = Set.of(
			"org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.logging.OpenTelemetryLoggingAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.logging.otlp.OtlpLoggingAutoConfiguration");

	/**
	 * Spring MVC's server observation filter: with {@code http.server.requests} observations off (the
	 * gateway's default follows tracing; its own {@code gateway_requests} count every request) it
	 * still wrapped every request in a no-op observation, 0.7 % of the CPU samples per request
	 * (docs/performance.md, third pass).
	 */
	static final Set<String> SERVER_OBSERVATION = Set.of(
			"org.springframework.boot.actuate.autoconfigure.observation.web.servlet.WebMvcObservationAutoConfiguration");

	private Environment environment;

	@Override
	public void setEnvironment(Environment environment) {
		this.environment = environment;
	}

	@Override
	public boolean[] match(String[] autoConfigurationClasses, AutoConfigurationMetadata metadata) {
		boolean tracing = environment == null
				|| environment.getProperty("management.tracing.enabled", Boolean.class, Boolean.TRUE);
		boolean sdk = tracing || environment.containsProperty("management.otlp.logging.endpoint");
		boolean serverObservation = environment == null
				|| environment.getProperty("management.observations.enable.http.server.requests", Boolean.class, Boolean.TRUE);
		boolean[] match = new boolean[autoConfigurationClasses.length];
		for (int i = 0; i < match.length; i++) {
			String c = autoConfigurationClasses[i];
			match[i] = c == null || (tracing || !TRACING.contains(c)) && (sdk || !SDK.contains(c))
					&& (serverObservation || !SERVER_OBSERVATION.contains(c));
		}
		return match;
	}

}
