package dev.resiliencegateway.exchange.transport;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.mock.web.MockHttpServletRequest;

import dev.resiliencegateway.config.TrustedProxies;

import static org.assertj.core.api.Assertions.assertThat;

class OutboundHeadersTest {

	private static final TrustedProxies TRUSTED = TrustedProxies.parse(List.of("10.0.0.0/8", "::1"), "t");

	private static Map<String, String> build(String peer) {
		MockHttpServletRequest servlet = new MockHttpServletRequest("GET", "/x");
		servlet.setRemoteAddr(peer);
		servlet.addHeader("Host", "api.example");
		servlet.setLocalPort(8080);
		HttpHeaders in = new HttpHeaders();
		in.add("Host", "api.example");
		in.add("X-Forwarded-For", "203.0.113.7");
		in.add("X-Forwarded-Proto", "https");
		in.add("Forwarded", "for=203.0.113.7;proto=https");
		in.add("Accept", "application/json");
		List<String> out = OutboundHeaders.build(in, servlet, TRUSTED, "rid-1", false);
		Map<String, String> map = new HashMap<>();
		for (int i = 0; i < out.size(); i += 2) {
			assertThat(map.put(out.get(i), out.get(i + 1))).as("sent once: %s", out.get(i)).isNull();
		}
		return map;
	}

	@Test
	void fromATrustedProxyForwardingHeadersAreKeptAndAppendedTo() {
		Map<String, String> h = build("10.1.2.3");
		assertThat(h.get("X-Forwarded-For")).isEqualTo("203.0.113.7, 10.1.2.3");
		assertThat(h.get("X-Forwarded-Proto")).isEqualTo("https");
		assertThat(h.get("Forwarded")).isEqualTo("for=203.0.113.7;proto=https, for=10.1.2.3;proto=http;host=\"api.example\"");
	}

	@Test
	void fromAnyoneElseTheyAreReplacedWithTheRealPeer() {
		Map<String, String> h = build("192.0.2.50");
		assertThat(h.get("X-Forwarded-For")).isEqualTo("192.0.2.50");
		assertThat(h.get("X-Forwarded-Proto")).isEqualTo("http");
		assertThat(h.get("X-Forwarded-Host")).isEqualTo("api.example");
		assertThat(h.get("Forwarded")).isEqualTo("for=192.0.2.50;proto=http;host=\"api.example\"");
		assertThat(h.get("Accept")).isEqualTo("application/json");
		assertThat(h).doesNotContainKey("Host").containsEntry("X-Request-Id", "rid-1");
	}

	@Test
	void ipv6PeersAreQuotedInForwarded() {
		assertThat(build("2001:db8::1").get("Forwarded")).startsWith("for=\"[2001:db8::1]\"");
		assertThat(build("::1").get("X-Forwarded-For")).isEqualTo("203.0.113.7, ::1");
	}

}
