package dev.resiliencegateway.exchange;

import static dev.resiliencegateway.exchange.ExchangeFixture.A;
import static dev.resiliencegateway.exchange.ExchangeFixture.B;
import static dev.resiliencegateway.exchange.FakeUpstream.answer;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.TrustedProxies;
import dev.resiliencegateway.limits.RateLimitPolicy;

class RateLimitsTest {

	private final ExchangeFixture fx = new ExchangeFixture(A, B);

	@AfterEach
	void close() {
		fx.close();
	}

	@Test
	void overTheLimitA429WithRetryAfterAndRateLimitFieldsReachesNoReplica() throws Exception {
		HandlerFunction<ServerResponse> route = fx.route(GatewayConfig.DEFAULT_ROUTE
			.withRateLimit(new RateLimitPolicy(2, Duration.ofMinutes(1), "X-Api-Key")));
		fx.upstream.scriptAll(answer(200, "ok"));
		assertThat(fx.send(route, "GET", "/a", null, "X-Api-Key", "k1").getStatus()).isEqualTo(200);
		assertThat(fx.send(route, "GET", "/a", null, "X-Api-Key", "k1").getStatus()).isEqualTo(200);
		MockHttpServletResponse third = fx.send(route, "GET", "/a", null, "X-Api-Key", "k1");
		assertThat(third.getStatus()).isEqualTo(429);
		assertThat(third.getContentType()).isEqualTo("application/problem+json");
		assertThat(Long.parseLong(third.getHeader("Retry-After"))).isBetween(1L, 30L);
		assertThat(third.getHeader("RateLimit-Limit")).isEqualTo("2");
		assertThat(third.getHeader("RateLimit-Remaining")).isEqualTo("0");
		assertThat(fx.upstream.sent).hasSize(2);
		assertThat(fx.send(route, "GET", "/a", null, "X-Api-Key", "k2").getStatus()).as("its own bucket").isEqualTo(200);
	}

	@Test
	void theClientAddressIsTakenThroughTrustedProxiesOnly() {
		TrustedProxies trusted = TrustedProxies.parse(List.of("127.0.0.1/32"), "test");
		MockHttpServletRequest direct = new MockHttpServletRequest();
		direct.setRemoteAddr("198.51.100.9");
		direct.addHeader("X-Forwarded-For", "203.0.113.7");
		assertThat(RateLimits.address(direct, trusted)).as("an untrusted peer's X-Forwarded-For is ignored")
			.isEqualTo("198.51.100.9");
		MockHttpServletRequest proxied = new MockHttpServletRequest();
		proxied.setRemoteAddr("127.0.0.1");
		proxied.addHeader("X-Forwarded-For", "203.0.113.66, 203.0.113.7, 127.0.0.1");
		assertThat(RateLimits.address(proxied, trusted)).as("the rightmost hop that is not a trusted proxy")
			.isEqualTo("203.0.113.7");
		MockHttpServletRequest named = new MockHttpServletRequest();
		named.setRemoteAddr("127.0.0.1");
		named.addHeader("X-Forwarded-For", "client.example");
		assertThat(RateLimits.address(named, trusted)).as("a name is a key, never looked up").isEqualTo("client.example");
	}

}
