package dev.resiliencegateway.wiring;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The traffic port's {@link DirectRouteDispatcher} in place of Spring Boot's plain
 * {@code DispatcherServlet}, configured from the same {@code spring.mvc.*} properties as Boot's own
 * (which stands back when a bean of this name exists). An application that defines its own
 * {@code dispatcherServlet} keeps it, and with it the full dispatch for every request.
 */
@AutoConfiguration(before = DispatcherServletAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@EnableConfigurationProperties(WebMvcProperties.class)
public class DirectRoutingAutoConfiguration {

	@Bean(name = DispatcherServletAutoConfiguration.DEFAULT_DISPATCHER_SERVLET_BEAN_NAME)
	@ConditionalOnMissingBean(name = DispatcherServletAutoConfiguration.DEFAULT_DISPATCHER_SERVLET_BEAN_NAME)
	DirectRouteDispatcher dispatcherServlet(WebMvcProperties mvc) {
		// as DispatcherServletAutoConfiguration.DispatcherServletConfiguration#dispatcherServlet
		DirectRouteDispatcher servlet = new DirectRouteDispatcher();
		servlet.setDispatchOptionsRequest(mvc.isDispatchOptionsRequest());
		servlet.setDispatchTraceRequest(mvc.isDispatchTraceRequest());
		servlet.setPublishEvents(mvc.isPublishRequestHandledEvents());
		servlet.setEnableLoggingRequestDetails(mvc.isLogRequestDetails());
		return servlet;
	}

}
