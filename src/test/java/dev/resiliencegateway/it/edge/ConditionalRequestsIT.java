package dev.resiliencegateway.it.edge;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;

import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.wiring.PoolRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Conditional requests are the replica's to answer. Gateway MVC's own response evaluated
 * {@code If-None-Match} and {@code If-Modified-Since} against the replica's validators and answered
 * 304 itself, without running the body writer that ends the attempt: each such GET left a pooled
 * connection leased and the replica's in-flight count raised for good. Now the replica's answer is
 * relayed as it is, the attempt ends, and route response filters still apply.
 */
class ConditionalRequestsIT extends EdgeIT {

	@Autowired
	PoolRegistry pools;

	@ParameterizedTest(name = "a conditional GET gets the replica's own answer and ends its attempt: {0}")
	@ValueSource(strings = { "If-None-Match: \"v1\"", "If-None-Match: *", "If-Modified-Since: Tue, 02 Jan 2024 00:00:00 GMT",
			"If-Match: \"other\"", "If-Unmodified-Since: Sun, 31 Dec 2023 00:00:00 GMT" })
	void conditionalRequestsAreForwardedAndTheirAttemptsEnd(String condition) throws Exception {
		ReplicaHealth replica = pools.pool("rec").replicas().get(0);
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			for (int i = 0; i < 20; i++) {
				client.send("GET /tagged/" + i + " HTTP/1.1\r\nHost: x\r\n" + condition + "\r\n\r\n");
				RawClient.Response r = client.read();
				assertThat(r.status()).as("the replica answered 200: %s", r).isEqualTo(200);
				assertThat(r.bodyText()).isEqualTo("tagged /tagged/" + i);
				assertThat(r.headers("ETag")).containsExactly("\"v1\"");
			}
		}
		assertThat(settled(mark)).hasSize(20).allSatisfy(received -> assertThat(received.head())
			.containsIgnoringCase(condition)); // forwarded (field names are case-insensitive; Tomcat hands them on in lower case)
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> replica.load().inFlight() == 0);
	}

	@ParameterizedTest(name = "response filters act on the relayed answer: {0}")
	@ValueSource(strings = { "", "If-None-Match: \"v1\"\r\n" })
	void routeResponseFiltersStillApply(String condition) throws Exception {
		ReplicaHealth replica = pools.pool("rec").replicas().get(0);
		try (RawClient client = new RawClient(port)) {
			client.send("GET /filtered/x HTTP/1.1\r\nHost: x\r\n" + condition + "\r\n");
			RawClient.Response r = client.read();
			assertThat(r.status()).isEqualTo(203);
			assertThat(r.headers("X-Added")).containsExactly("by-route");
			assertThat(r.headers("ETag")).isEmpty();
			assertThat(r.headers("X-Between")).containsExactly("yes");
			assertThat(r.headers("Set-Cookie")).containsExactly("a=1", "b=2");
			assertThat(r.bodyText()).isEqualTo("tagged /filtered/x");
		}
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> replica.load().inFlight() == 0);
	}

	@org.junit.jupiter.api.Test
	void anAnswerAFailingResponseFilterNeverWroteEndsItsAttempt() throws Exception {
		ReplicaHealth replica = pools.pool("rec").replicas().get(0);
		for (int i = 0; i < 3; i++) {
			try (RawClient client = new RawClient(port)) {
				client.send("GET /throwing/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
				RawClient.Response r = client.read();
				assertThat(r.status()).as("%s", r).isGreaterThanOrEqualTo(500);
				assertThat(r.bodyText()).doesNotContain("tagged");
			}
		}
		// without the request's end telling the exchange, each attempt stayed open: in flight for good
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> replica.load().inFlight() == 0);
		assertThat(replica.state().takesTraffic()).as("not the replica's failure").isTrue();
	}

	@org.junit.jupiter.api.Test
	void fieldsKeepTheReplicasOrder() throws Exception {
		try (RawClient client = new RawClient(port)) {
			client.send("GET /tagged/order HTTP/1.1\r\nHost: x\r\n\r\n");
			RawClient.Response r = client.read();
			String head = r.head();
			assertThat(head.indexOf("set-cookie: a=1")).as("%s", head).isPositive()
				.isLessThan(head.indexOf("X-Between: yes"));
			assertThat(head.indexOf("X-Between: yes")).isLessThan(head.indexOf("Set-Cookie: b=2"));
		}
	}

}
