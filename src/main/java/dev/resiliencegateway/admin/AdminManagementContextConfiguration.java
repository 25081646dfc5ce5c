package dev.resiliencegateway.admin;

import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;

/** Beans of the management port's own context (not the traffic port's): the admin authentication filter. */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
public class AdminManagementContextConfiguration {

	@Bean
	FilterRegistrationBean<AdminAuthFilter> adminAuthFilter(AdminCredentials credentials) {
		FilterRegistrationBean<AdminAuthFilter> registration = new FilterRegistrationBean<>(new AdminAuthFilter(credentials));
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return registration;
	}

}
