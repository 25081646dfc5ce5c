package dev.resiliencegateway.admin;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

import dev.resiliencegateway.config.InvalidConfigurationException;

/**
 * Beans of the management port's own context (not the traffic port's): the admin authentication
 * filter, and refused configuration changes as 422.
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
public class AdminManagementContextConfiguration {

	@Bean
	FilterRegistrationBean<AdminAuthFilter> adminAuthFilter(AdminCredentials credentials) {
		FilterRegistrationBean<AdminAuthFilter> registration = new FilterRegistrationBean<>(new AdminAuthFilter(credentials));
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return registration;
	}

	/**
	 * A configuration change that {@code POST /actuator/refresh} (or a ConfigMap reload) found
	 * invalid: 422 with the same message as startup would give, instead of a bare 500. The running
	 * configuration stays (ConfigRefreshAutoConfiguration).
	 */
	@Bean
	HandlerExceptionResolver refusedConfigurationResolver(ObjectMapper json) {
		return new HandlerExceptionResolver() {
			@Override
			public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler,
					Exception ex) {
				if (!(ex instanceof InvalidConfigurationException invalid)) {
					return null;
				}
				Map<String, Object> problem = new LinkedHashMap<>();
				problem.put("type", "about:blank");
				problem.put("status", 422);
				problem.put("title", "Configuration change refused");
				problem.put("detail", invalid.getMessage() + "; the running configuration stays");
				problem.put("key", invalid.key());
				try {
					response.setStatus(422);
					response.setContentType("application/problem+json");
					response.setCharacterEncoding("UTF-8");
					json.writeValue(response.getWriter(), problem);
				}
				catch (IOException e) {
					return null;
				}
				return new ModelAndView();
			}
		};
	}

}
