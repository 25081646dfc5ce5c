package dev.resiliencegateway.wiring;

import java.util.EnumSet;

import jakarta.servlet.DispatcherType;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.edge.ConnectionAbort;
import dev.resiliencegateway.edge.EdgeFilter;
import dev.resiliencegateway.edge.ErrorDispatchFilter;

/**
 * The traffic port's edge: the request checks that run before any route, the error dispatch that
 * never reaches a route, and the Tomcat settings the servlet API cannot express. See docs/security.md.
 */
@Configuration(proxyBeanMethods = false)
public class EdgeConfiguration {

	@Bean
	@ConditionalOnMissingBean(EdgeFilter.class)
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

	/**
	 * Tomcat settings with no Boot property: the valve that can cut a connection; 100-continue sent
	 * only when the gateway reads the body (so a 413 goes out without a 100 first); and Tomcat's own
	 * header count limit set well above the gateway's, so the gateway answers 431 rather than Tomcat 400.
	 */
	@Bean
	@ConditionalOnClass(TomcatServletWebServerFactory.class)
	WebServerFactoryCustomizer<TomcatServletWebServerFactory> edgeTomcat(GatewayConfig config) {
		return factory -> {
			factory.addContextValves(new ConnectionAbort());
			factory.addConnectorCustomizers(connector -> {
				connector.setProperty("continueResponseTiming", "onRead");
				connector.setProperty("maxHeaderCount", String.valueOf(Math.max(1000, config.edge().maxHeaderCount() * 4)));
			});
		};
	}

}
