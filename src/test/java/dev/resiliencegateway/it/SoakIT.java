package dev.resiliencegateway.it;

import java.lang.management.ManagementFactory;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.exchange.transport.UpstreamClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Soak (hardening c.3 S1): steady open-loop traffic, 20 % POST, with a fault on one replica every
 * 15 s (crash and restart, hang, 500s, +1.5 s), then the invariants: every request got one answer
 * and every error is explained by a fault (a GET always succeeds; a POST may fail only with the
 * replica's own 500, a 502 or a 504, and is never executed twice); heap after GC, threads, file descriptors and leased upstream
 * connections come back to their baseline. Two minutes in CI; {@code -Dsoak.seconds=3600} for longer.
 */
class SoakIT extends GatewayIT {

	private static final int RATE = 100;

	@Autowired
	UpstreamClient upstream;

	record Baseline(long heapAfterGc, int threads, long fds) {

		static Baseline now() throws Exception {
			for (int i = 0; i < 3; i++) {
				System.gc();
				Thread.sleep(200);
			}
			long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
			int threads = ManagementFactory.getThreadMXBean().getThreadCount();
			long fds;
			try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
				fds = s.count();
			}
			return new Baseline(heap, threads, fds);
		}

	}

	@Test
	void invariantsHoldAndResourcesReturnToBaselineUnderRepeatedFaults() throws Exception {
		long seconds = Long.getLong("soak.seconds", 120);
		Map<Integer, AtomicInteger> getStatuses = new ConcurrentHashMap<>();
		Map<Integer, AtomicInteger> postStatuses = new ConcurrentHashMap<>();
		Map<String, Integer> postAnswers = new ConcurrentHashMap<>();
		List<String> unexplained = java.util.Collections.synchronizedList(new ArrayList<>());

		// warm: a few seconds of the same traffic, so the baseline includes warm pools and JIT state
		load(5, "warm", getStatuses, postStatuses, postAnswers, unexplained);
		Baseline before = Baseline.now();
		getStatuses.clear();
		postStatuses.clear();
		postAnswers.clear();
		Replicas.SVC.forEach(DemoReplica::resetStats);

		DemoReplica faulty = Replicas.SVC.get(0);
		Thread faults = new Thread(() -> {
			DemoReplica.Mode[] cycle = { null, DemoReplica.Mode.HANGING, DemoReplica.Mode.FAILING, DemoReplica.Mode.SLOW };
			try {
				for (int round = 0; round * 15L + 15 <= seconds; round++) {
					DemoReplica.Mode mode = cycle[round % cycle.length];
					if (mode == null) {
						faulty.crash();
					}
					else {
						faulty.setMode(mode, 1.0, 1500);
					}
					Thread.sleep(7_000);
					faulty.setMode(DemoReplica.Mode.HEALTHY);
					if (!faulty.isRunning()) {
						faulty.start();
					}
					Thread.sleep(8_000);
				}
			}
			catch (Exception e) {
				unexplained.add("fault injector: " + e);
			}
		}, "soak-faults");
		faults.setDaemon(true);
		faults.start();
		int sent = load(seconds, "soak", getStatuses, postStatuses, postAnswers, unexplained);
		faults.join(TimeUnit.SECONDS.toMillis(30));
		faulty.setMode(DemoReplica.Mode.HEALTHY);

		// I1: one answer per request, every error explained by a fault
		int answered = Stream.concat(getStatuses.values().stream(), postStatuses.values().stream())
			.mapToInt(AtomicInteger::get).sum();
		assertThat(answered).isEqualTo(sent);
		assertThat(unexplained).isEmpty();
		assertThat(getStatuses.keySet()).containsOnly(200);
		// a POST meeting the faulty replica: its own 500, a reset (502) or the per-try timeout (504)
		assertThat(postStatuses.keySet()).isSubsetOf(200, 500, 502, 504);
		// I2: a POST reaches a replica at most once; one answered 200 was executed exactly once
		Map<String, Integer> executions = new HashMap<>();
		Replicas.SVC.forEach(r -> r.executions().forEach((id, n) -> executions.merge(id, n, Integer::sum)));
		assertThat(executions.values()).allMatch(n -> n == 1);
		postAnswers.forEach((id, status) -> {
			if (status == 200) {
				assertThat(executions).containsEntry(id, 1);
			}
		});

		// I6: resources back to baseline once the faults are over (the test's own records dropped first)
		postAnswers.clear();
		Replicas.SVC.forEach(DemoReplica::resetStats);
		Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> upstream.leasedConnections() == 0);
		Baseline after = Baseline.now();
		System.out.printf("soak %d s, %d requests (GET %s, POST %s): heap after GC %d -> %d KB, threads %d -> %d, fds %d -> %d%n",
				seconds, sent, getStatuses, postStatuses, before.heapAfterGc() / 1024, after.heapAfterGc() / 1024,
				before.threads(), after.threads(), before.fds(), after.fds());
		assertThat(after.heapAfterGc()).isLessThanOrEqualTo((long) (before.heapAfterGc() * 1.10) + 8L * 1024 * 1024);
		assertThat(after.threads()).isLessThanOrEqualTo((int) (before.threads() * 1.05) + 4);
		assertThat(after.fds()).isLessThanOrEqualTo((long) (before.fds() * 1.05) + 8);
	}

	/** Open loop at {@link #RATE} req/s for the given time; returns the number of requests sent. */
	private int load(long seconds, String tag, Map<Integer, AtomicInteger> getStatuses,
			Map<Integer, AtomicInteger> postStatuses, Map<String, Integer> postAnswers, List<String> unexplained)
			throws Exception {
		int total = (int) (seconds * RATE);
		List<CompletableFuture<Void>> pending = new ArrayList<>(total);
		long start = System.nanoTime();
		for (int i = 0; i < total; i++) {
			long due = start + i * (1_000_000_000L / RATE);
			long wait = due - System.nanoTime();
			if (wait > 0) {
				TimeUnit.NANOSECONDS.sleep(wait);
			}
			boolean post = i % 5 == 4;
			String id = tag + "-" + i;
			HttpRequest.Builder b = HttpRequest.newBuilder(gateway("/svc/soak/" + i))
				.timeout(Duration.ofSeconds(15))
				.header("X-Request-Id", id);
			HttpRequest request = post ? b.POST(HttpRequest.BodyPublishers.ofString(id)).build() : b.GET().build();
			pending.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
				if (e != null) {
					unexplained.add(id + ": " + e);
					(post ? postStatuses : getStatuses).computeIfAbsent(-1, k -> new AtomicInteger()).incrementAndGet();
					return null;
				}
				(post ? postStatuses : getStatuses).computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
				if (post) {
					postAnswers.put(id, r.statusCode());
					if (r.statusCode() == 200 && !r.body().equals(id)) {
						unexplained.add(id + ": answered with another request's body: " + r.body());
					}
				}
				return null;
			}));
		}
		CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
		return total;
	}

}
