package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;

/**
 * Per-route fallbacks in place of the gateway's own failure. Each route below sends to pool "dead"
 * (nothing listens), which on its own answers 503 (see {@link ProblemResponsesIT}).
 */
class FallbackIT extends GatewayIT {

	@Test
	void aStaticFallbackAnswersInsteadOfThe503() throws Exception {
		HttpResponse<String> r = get("/fbstatic/catalog");
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.body()).isEqualTo("{\"items\":[],\"stale\":true}");
		assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
		assertThat(r.headers().firstValue("X-Gateway-Fallback")).contains("503");
		assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
	}

	@Test
	void aForwardFallbackIsServedByAnotherRouteWithTheSameRequestIdAndBody() throws Exception {
		Replicas.SVC.forEach(DemoReplica::resetStats);
		Replicas.SVC.forEach(r -> r.recordRequests(true));
		HttpResponse<String> r = post("/fbforward/orders", "order-42", "X-Request-Id", "fallback-post-1");
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.body()).as("the body the client sent, echoed by the svc replica").isEqualTo("order-42");
		assertThat(r.headers().firstValue("X-Gateway-Fallback")).contains("503");
		List<String> svc = Replicas.SVC.stream().map(s -> "127.0.0.1:" + s.port()).toList();
		assertThat(r.headers().firstValue("X-Gateway-Replica")).hasValueSatisfying(id -> assertThat(svc).contains(id));
		List<DemoReplica.Recorded> seen = Replicas.SVC.stream().flatMap(s -> s.recorded().stream()).toList();
		assertThat(seen).singleElement().satisfies(rec -> {
			assertThat(rec.path()).isEqualTo("/from-fallback");
			assertThat(rec.requestId()).isEqualTo("fallback-post-1");
		});
	}

	@Test
	void aFallbackThatFailsInTurnIsNotFallenBackAgain() throws Exception {
		HttpResponse<String> r = get("/fbloop/x");
		assertThat(r.statusCode()).isEqualTo(503);
		assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
		assertThat(r.headers().firstValue("X-Gateway-Fallback")).contains("503");
	}

}
