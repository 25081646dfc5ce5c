package dev.resiliencegateway.wiring;

import java.util.EnumSet;

import jakarta.servlet.DispatcherType;

import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.web.filter.RequestContextFilter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.core.Ordered;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayProperties;
import dev.resiliencegateway.edge.ConnectionAbort;
import dev.resiliencegateway.edge.EdgeFilter;
import dev.resiliencegateway.edge.ErrorDispatchFilter;
import dev.resiliencegateway.edge.LoadShedding;
import dev.resiliencegateway.edge.AccessLog;
import dev.resiliencegateway.edge.ProblemReportValve;
import dev.resiliencegateway.edge.RequestIds;
import dev.resiliencegateway.edge.SheddingNioProtocol;

/**
 * The traffic port's edge: the request checks that run before any route, the error dispatch that
 * never reaches a route, and the Tomcat settings the servlet API cannot express. See docs/security.md.
 */
@AutoConfiguration(before = WebMvcAutoConfiguration.class)
public class EdgeAutoConfiguration {

	/**
	 * Spring Boot's {@code RequestContextFilter} is not registered: it exposes the request to code
	 * that runs before Spring MVC, and nothing of the gateway does (the DispatcherServlet exposes it
	 * to everything after); it was 1.3 % of the CPU samples per request (docs/performance.md).
	 */
	@Bean
	FilterRegistrationBean<RequestContextFilter> requestContextFilterOff() {
		FilterRegistrationBean<RequestContextFilter> registration = new FilterRegistrationBean<>(new RequestContextFilter());
		registration.setEnabled(false);
		return registration;
	}

	/** Every request gets an id (the client's {@code X-Request-Id} when well-formed), before anything else runs. */
	@Bean
	FilterRegistrationBean<RequestIds> requestIdFilter() {
		FilterRegistrationBean<RequestIds> registration = new FilterRegistrationBean<>(new RequestIds());
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return registration;
	}

	@Bean
	@ConditionalOnMissingBean(name = "edgeFilter")
	FilterRegistrationBean<EdgeFilter> edgeFilter(GatewayConfig config) {
		FilterRegistrationBean<EdgeFilter> registration = new FilterRegistrationBean<>(new EdgeFilter(config.edge()));
		// right after the request id filter, so refusals carry the id too
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
		registration.setDispatcherTypes(DispatcherType.REQUEST);
		return registration;
	}

	@Bean
	FilterRegistrationBean<ErrorDispatchFilter> errorDispatchFilter() {
		FilterRegistrationBean<ErrorDispatchFilter> registration = new FilterRegistrationBean<>(new ErrorDispatchFilter());
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		registration.setDispatcherTypes(EnumSet.of(DispatcherType.ERROR));
		return registration;
	}

	/** The cap on requests in flight on the traffic port, with {@code gateway_shed_total} and {@code gateway_in_flight}. */
	@Bean
	LoadShedding loadShedding(GatewayConfig config, MeterRegistry meters) {
		Counter shed = Counter.builder("gateway.shed")
			.description("Requests refused with 503 because the gateway was at its limit of requests in flight")
			.register(meters);
		LoadShedding shedding = new LoadShedding(config.edge().maxInFlight(), shed::increment);
		Gauge.builder("gateway.in.flight", shedding, LoadShedding::inFlight)
			.description("Requests in flight on the traffic port")
			.register(meters);
		return shedding;
	}

	/**
	 * Tomcat settings with no Boot property: load shedding first (a refusal must be cheap: on the
	 * poller thread where it can be, {@link SheddingNioProtocol}, else as the first valve), then the
	 * valve that can cut a connection; Tomcat's own error answers as problem+json; 100-continue sent
	 * only when the gateway reads the body (so a 413 goes out without a 100 first); no body parsed for
	 * parameters; and Tomcat's own
	 * header count limit set well above the gateway's, so the gateway answers 431 rather than Tomcat 400.
	 */
	@Bean
	@ConditionalOnClass(TomcatServletWebServerFactory.class)
	WebServerFactoryCustomizer<TomcatServletWebServerFactory> edgeTomcat(GatewayConfig config, LoadShedding shedding,
			GatewayProperties properties, MeterRegistry meters) {
		return factory -> {
			// the cap is enforced on Tomcat's poller too, before a request waits for a thread (EarlyRefusal)
			factory.setProtocol(SheddingNioProtocol.class.getName());
			factory.addContextValves(shedding, new ConnectionAbort());
			if (properties.accessLog().enabled()) {
				// on the engine, so requests refused before any context (a bad request line) are logged too
				factory.addEngineValves(new AccessLog());
			}
			// Tomcat's own refusals as problem+json: swap the host's error report valve (Boot adds one)
			factory.addContextCustomizers(context -> {
				if (context.getParent() instanceof StandardHost host) {
					for (Valve valve : host.getPipeline().getValves()) {
						if (valve instanceof ErrorReportValve) {
							host.getPipeline().removeValve(valve);
						}
					}
					host.setErrorReportValveClass(ProblemReportValve.class.getName());
					host.getPipeline().addValve(new ProblemReportValve());
				}
			});
			factory.addConnectorCustomizers(connector -> {
				if (connector.getProtocolHandler() instanceof SheddingNioProtocol protocol) {
					protocol.refuseEarly(shedding.early(properties.accessLog().enabled()));
					Gauge.builder("gateway.connections.busy", protocol, SheddingNioProtocol::busy)
						.description("Traffic-port connections being served or waiting for a request thread; "
								+ "at edge.max-in-flight new requests are refused on the poller")
						.register(meters);
				}
				// Tomcat never reads a form body to find request parameters: Gateway MVC filters that
				// rebuild the request (StripPrefix, RewritePath, ...) ask for them, which would consume the
				// body before the exchange could forward it. Query parameters are still parsed.
				connector.setParseBodyMethods("");
				connector.setProperty("continueResponseTiming", "onRead");
				connector.setProperty("maxHeaderCount", String.valueOf(Math.max(1000, config.edge().maxHeaderCount() * 4)));
			});
		};
	}

}
