package dev.resiliencegateway.exchange;

import static dev.resiliencegateway.exchange.ExchangeFixture.A;
import static dev.resiliencegateway.exchange.ExchangeFixture.B;
import static dev.resiliencegateway.exchange.ExchangeFixture.C;
import static dev.resiliencegateway.exchange.FakeUpstream.answer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * The route's availability model against a hand computation: each replica's p from the attempts it
 * got, R = 1 - (1 - pB)(1 - pC) over the replicas in rotation, and the measured success from what
 * the clients got. Retries lift the measured success above every single replica's.
 */
class AvailabilityModelTest {

	private final ExchangeFixture fx = new ExchangeFixture(A, B, C);

	private final HandlerFunction<ServerResponse> route = fx.route(GatewayConfig.DEFAULT_ROUTE
		.withBackoff(Duration.ZERO, Duration.ZERO));

	@AfterEach
	void close() {
		fx.close();
	}

	@Test
	void predictedAndMeasuredMatchAHandComputation() throws Exception {
		FakeUpstream.Step[] half = new FakeUpstream.Step[400];
		for (int i = 0; i < half.length; i++) {
			half[i] = i % 2 == 0 ? answer(500, "boom") : answer(200, "ok");
		}
		fx.upstream.script(A, answer(500, "boom")); // always fails: ejected after 5 in a row
		fx.upstream.script(B, half);
		fx.upstream.script(C, half.clone());
		int requests = 60;
		int good = 0;
		for (int i = 0; i < requests; i++) {
			if (fx.send(route, "GET", "/orders/" + i, null).getStatus() < 500) {
				good++;
			}
		}
		ResilientExchange.RouteAvailability a = fx.availability().get(0);

		// by hand, from the attempts each replica got
		List<Double> inRotation = new ArrayList<>();
		for (Replica r : List.of(A, B, C)) {
			double ok = fx.attempts(r, Outcome.SUCCESS);
			double all = ok + fx.attempts(r, Outcome.UPSTREAM_5XX);
			assertThat(a.replicas().get(r.id())).as(r.id()).isCloseTo(ok / all, within(1e-9));
			ReplicaHealth h = fx.health(r);
			if (fx.pool.snapshot().routable().contains(h)) {
				inRotation.add(ok / all);
			}
		}
		assertThat(a.replicas().get(A.id())).isZero();
		assertThat(inRotation).as("A was ejected").hasSize(2);
		double allFail = 1;
		for (double p : inRotation) {
			allFail *= 1 - p;
		}
		assertThat(a.predicted()).isCloseTo(1 - allFail, within(1e-9));
		assertThat(a.measured()).isCloseTo((double) good / requests, within(1e-9));
		assertThat(a.measured()).as("retries bought more than any one replica gives")
			.isGreaterThan(a.replicas().get(B.id())).isGreaterThan(a.replicas().get(C.id()));
	}

}
