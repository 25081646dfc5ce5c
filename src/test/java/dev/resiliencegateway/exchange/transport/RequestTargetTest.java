package dev.resiliencegateway.exchange.transport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The request target the upstream client sends: an origin-form target is sent as the client wrote
 * it (the edge has refused every path a replica could read differently, docs/security.md); what no
 * HTTP/1.1 request line may carry is never sent.
 */
class RequestTargetTest {

	@ParameterizedTest(name = "sent as written: {0}")
	@ValueSource(strings = { "/", "/orders/7", "/a;jsessionid=1/b", "/ADMIN", "/search?q=a+b&r=%2B", "/q?x=%zz",
			"/q?x=%0d%0a", "/p/%E2%82%AC", "/a?b=c?d/e", "/a?list=[1,2]", "/a!$&'()*+,=:@~-._" })
	void validTargetsAreSentAsWritten(String target) {
		assertThat(HttpUpstreamClient.validTarget(target)).isTrue();
	}

	@ParameterizedTest(name = "never sent: [{0}]")
	@ValueSource(strings = { "", "orders", "*", "http://replica/x", "/a b", "/a\tb", "/a\r\nX-Injected: 1", "/a\u0000",
			"/a\u007f", "/caf\u00e9", "/a\"b", "/a<b>", "/a\\b", "/a^b", "/a`b", "/a{b}", "/a|b" })
	void targetsNoRequestLineMayCarryAreRefused(String target) {
		assertThat(HttpUpstreamClient.validTarget(target)).isFalse();
	}

	@Test
	void contentTypeIsTheClientsUnlessMoreThanACharsetChanged() {
		assertThat(OutboundHeaders.charsetAddedTo("application/x-www-form-urlencoded",
				"application/x-www-form-urlencoded;charset=UTF-8")).isTrue();
		assertThat(OutboundHeaders.charsetAddedTo("APPLICATION/JSON", "application/json;charset=UTF-8")).isTrue();
		assertThat(OutboundHeaders.charsetAddedTo("text/plain; format=flowed", "text/plain;format=flowed;charset=UTF-8")).isTrue();
		// a route filter's change is kept
		assertThat(OutboundHeaders.charsetAddedTo("text/plain", "application/json")).isFalse();
		assertThat(OutboundHeaders.charsetAddedTo("text/plain; charset=ISO-8859-1", "text/plain;charset=UTF-8")).isFalse();
		assertThat(OutboundHeaders.charsetAddedTo("text/plain", "text/plain;format=flowed")).isFalse();
		assertThat(OutboundHeaders.charsetAddedTo("not a type", "text/plain")).isFalse();
	}

	@Test
	void aQueryIsTheReplicasToRead() {
		// invalid percent-encoding in the query passes (java.net.URI refused it, so such a request used
		// to fail after a replica was chosen); in the path the edge refuses it before any route
		assertThat(HttpUpstreamClient.validTarget("/report?from=%zz&to=100%")).isTrue();
	}

}
