package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.resiliencegateway.exchange.FailurePathWarmup;

/** The startup warm-up of the failure paths ran through the real stack, and left nothing behind. */
class FailurePathWarmupIT extends GatewayIT {

	@Autowired
	FailurePathWarmup warmup;

	@Test
	void theFailurePathsRanBeforeTheGatewayWasReady() {
		// a POST and a GET to a replica that never answers (504), then to one that refuses (503), twice
		assertThat(warmup.statuses()).containsExactly(504, 504, 503, 503, 504, 504, 503, 503);
	}

	@Test
	void theWarmUpRouteIsGoneAndLeftNoMetrics() throws Exception {
		// with the warm-up's own token: the route closed once the warm-up was over
		HttpResponse<String> r = http.send(HttpRequest.newBuilder(gateway("/.resilience-gateway/warm-up?fault=hang"))
			.header("X-Warm-Up-Token", warmup.token()).build(), HttpResponse.BodyHandlers.ofString());
		assertThat(r.statusCode()).isEqualTo(404);
		assertThat(management("/actuator/prometheus").body()).doesNotContain("warm-up");
	}

}
