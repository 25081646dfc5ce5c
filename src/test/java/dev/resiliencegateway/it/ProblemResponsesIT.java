package dev.resiliencegateway.it;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The gateway's own errors: problem+json with the request id, 502/503/504 each for its cause. */
class ProblemResponsesIT extends GatewayIT {

	@Test
	void noReplicaAcceptingAConnectionGives503WithRetryAfter() throws Exception {
		HttpResponse<String> r = get("/dead/x");
		assertThat(r.statusCode()).isEqualTo(503);
		assertProblem(r, 503);
		assertThat(r.headers().firstValue("Retry-After")).contains("1");
	}

	@Test
	void aReplicaThatNeverAnswersGives504() throws Exception {
		HttpResponse<String> r = get("/hang/x");
		assertThat(r.statusCode()).isEqualTo(504);
		assertProblem(r, 504);
	}

	@Test
	void aReplicaThatDropsTheConnectionGives502() throws Exception {
		HttpResponse<String> r = get("/reset/x");
		assertThat(r.statusCode()).isEqualTo(502);
		assertProblem(r, 502);
	}

	@Test
	void aPostToAReplicaThatDropsTheConnectionIsNotRetried() throws Exception {
		Replicas.RESET.resetStats();
		Replicas.RESET.recordRequests(true);
		try {
			HttpResponse<String> r = post("/reset/orders", "once", "X-Request-Id", "post-reset-1");
			assertThat(r.statusCode()).isEqualTo(502);
			assertThat(Replicas.RESET.recorded()).hasSize(1);
		}
		finally {
			Replicas.RESET.recordRequests(false);
		}
	}

	private static void assertProblem(HttpResponse<String> r, int status) {
		assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
		String id = r.headers().firstValue("X-Request-Id").orElseThrow();
		assertThat(r.body()).contains("\"status\":" + status).contains("\"requestId\":\"" + id + "\"")
			.contains("\"detail\":").contains("\"route\":");
	}

}
