package dev.resiliencegateway.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.bench.Benchmark;
import dev.resiliencegateway.bench.LoadRun;
import dev.resiliencegateway.bench.RunResult;
import dev.resiliencegateway.bench.Scenario;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark's short variant (a few seconds, one scenario, this gateway only), so it never rots. */
class BenchmarkSmokeIT extends GatewayIT {

	@Test
	void crashScenarioLosesNoRequestAndNoWrite() throws Exception {
		LoadRun.Settings settings = new LoadRun.Settings(100, Duration.ofSeconds(4), Duration.ofSeconds(1),
				Duration.ofMillis(2500), 0.2, Duration.ofSeconds(10));
		RunResult r = LoadRun.run("resilience-gateway", "http://127.0.0.1:" + port, Replicas.SVC, Scenario.CRASH, settings);
		assertThat(r.samples()).hasSize(400);
		assertThat(r.failures()).isEmpty();
		assertThat(r.successPercent()).isEqualTo(100.0);
		assertThat(r.duplicatedPosts()).isZero();
		assertThat(r.lostPosts()).isZero();
		assertThat(r.attemptsPerRequest()).isBetween(1.0, 1.2);
		assertThat(r.getSuccessPercent()).isEqualTo(100.0);
		assertThat(Benchmark.row(r)).startsWith("| resilience-gateway | 100.00 | 100.00 | - |");
		Path chart = Files.createTempFile("chart", ".png");
		Benchmark.chart(chart, "smoke", List.of(r));
		assertThat(Files.size(chart)).isPositive();
	}

}
