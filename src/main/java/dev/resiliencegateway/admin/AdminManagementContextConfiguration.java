package dev.resiliencegateway.admin;

import java.io.IOException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

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
	HandlerExceptionResolver refusedConfigurationResolver() {
		return new HandlerExceptionResolver() {
			@Override
			public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler,
					Exception ex) {
				if (!(ex instanceof InvalidConfigurationException invalid)) {
					return null;
				}
				try {
					response.setStatus(422);
					response.setContentType("application/problem+json");
					response.setCharacterEncoding("UTF-8");
					response.getWriter().write("{\"type\":\"about:blank\",\"status\":422,\"title\":\"Configuration change refused\","
							+ "\"detail\":\"" + json(invalid.getMessage() + "; the running configuration stays") + "\",\"key\":\""
							+ json(invalid.key()) + "\"}");
				}
				catch (IOException e) {
					return null;
				}
				return new ModelAndView();
			}
		};
	}

	private static String json(String s) {
		StringBuilder out = new StringBuilder(s.length() + 8);
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c == '"' || c == '\\') {
				out.append('\\').append(c);
			}
			else if (c < 0x20) {
				out.append(String.format("\\u%04x", (int) c));
			}
			else {
				out.append(c);
			}
		}
		return out.toString();
	}

}
