package dev.resiliencegateway.admin;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import dev.resiliencegateway.config.InvalidConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdminAuthFilterTest {

	private static MockHttpServletResponse run(AdminCredentials credentials, String method, String authorization,
			MockFilterChain chain) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest(method, "/actuator/replicas/svc/r1");
		if (authorization != null) {
			request.addHeader("Authorization", authorization);
		}
		MockHttpServletResponse response = new MockHttpServletResponse();
		new AdminAuthFilter(credentials).doFilter(request, response, chain);
		return response;
	}

	private static String basic(String user, String password) {
		return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
	}

	@Test
	void withoutAConfiguredCredentialWritesAreForbiddenNotOpen() throws Exception {
		MockFilterChain chain = new MockFilterChain();
		MockHttpServletResponse r = run(AdminCredentials.NONE, "POST", null, chain);
		assertThat(r.getStatus()).isEqualTo(403);
		assertThat(r.getContentAsString()).contains("resilience.gateway.admin.password");
		assertThat(chain.getRequest()).isNull();
		// and no credential can be right
		assertThat(run(AdminCredentials.NONE, "POST", basic("admin", ""), new MockFilterChain()).getStatus()).isEqualTo(401);
	}

	@Test
	void readsPassWithoutCredentials() throws Exception {
		MockFilterChain chain = new MockFilterChain();
		assertThat(run(AdminCredentials.NONE, "GET", null, chain).getStatus()).isEqualTo(200);
		assertThat(chain.getRequest()).isNotNull();
	}

	@Test
	void theRightCredentialBecomesAnAdminPrincipal() throws Exception {
		AdminCredentials creds = AdminCredentials.of("ops", "{bcrypt}" + new org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder(4).encode("pw"));
		MockFilterChain chain = new MockFilterChain();
		assertThat(run(creds, "POST", basic("ops", "pw"), chain).getStatus()).isEqualTo(200);
		var request = (jakarta.servlet.http.HttpServletRequest) chain.getRequest();
		assertThat(request.getUserPrincipal().getName()).isEqualTo("ops");
		assertThat(request.isUserInRole("ADMIN")).isTrue();
		assertThat(run(creds, "POST", basic("ops", "nope"), new MockFilterChain()).getStatus()).isEqualTo(401);
		assertThat(run(creds, "POST", "Basic !!!", new MockFilterChain()).getStatus()).isEqualTo(401);
	}

	@Test
	void aPasswordWithoutItsEncodingStopsStartup() {
		assertThatThrownBy(() -> AdminCredentials.of("admin", "plain"))
			.isInstanceOf(InvalidConfigurationException.class)
			.hasMessage("resilience.gateway.admin.password: '(hidden)' (expected: a password with its encoding, such as {bcrypt}$2a$10$... or {noop}plain-text)");
	}

}
