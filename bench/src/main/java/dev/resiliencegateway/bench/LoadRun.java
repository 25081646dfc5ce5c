package dev.resiliencegateway.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.resiliencegateway.demo.DemoReplica;

/**
 * Open-loop load: request i is due at start + i / rate whatever happened to earlier ones, so a hang
 * is measured rather than hidden (no coordinated omission). Latency runs from the due time. Every
 * request has a unique X-Request-Id; every fifth (by default) is a POST whose execution the replicas
 * record, to count duplicated and lost writes afterwards.
 */
public final class LoadRun {

	/** One client request and how it ended. */
	public record Sample(long dueNanos, long endNanos, boolean post, String id, int status, String error) {
	}

	/** One request reaching a replica. */
	public record Arrival(String replica, long atNanos) {
	}

	public record Settings(int rate, Duration duration, Duration faultStart, Duration faultEnd, double postShare,
			Duration clientTimeout) {
	}

	private LoadRun() {
	}

	public static RunResult run(String system, String baseUrl, List<DemoReplica> replicas, Scenario scenario,
			Settings s) throws InterruptedException {
		ConcurrentLinkedQueue<Arrival> arrivals = new ConcurrentLinkedQueue<>();
		replicas.forEach(r -> {
			r.resetStats();
			r.setArrivalLog(id -> arrivals.add(new Arrival(id, System.nanoTime())));
		});
		HttpClient client = HttpClient.newBuilder()
			.connectTimeout(Duration.ofSeconds(2))
			.executor(Executors.newCachedThreadPool(r -> {
				Thread t = new Thread(r, "bench-client");
				t.setDaemon(true);
				return t;
			}))
			.build();
		ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
		int total = (int) (s.rate() * s.duration().toMillis() / 1000);
		Sample[] samples = new Sample[total];
		CountDownLatch done = new CountDownLatch(total);
		long start = System.nanoTime();
		long faultAt = start + s.faultStart().toNanos();
		long healAt = start + scenario.healAt(s).toNanos();
		long wallStart = System.currentTimeMillis();
		timer.schedule(() -> scenario.apply(replicas, timer), s.faultStart().toMillis(), TimeUnit.MILLISECONDS);
		timer.schedule(() -> scenario.heal(replicas), scenario.healAt(s).toMillis(), TimeUnit.MILLISECONDS);
		int postEvery = s.postShare() <= 0 ? Integer.MAX_VALUE : (int) Math.round(1 / s.postShare());
		String runId = Long.toHexString(System.nanoTime());
		for (int i = 0; i < total; i++) {
			long due = start + (long) (i * 1e9 / s.rate());
			long wait = due - System.nanoTime();
			if (wait > 0) {
				LockSupport.parkNanos(wait);
			}
			boolean post = i % postEvery == 0;
			String id = "bench-" + runId + "-" + i;
			HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + (post ? "/demo/orders" : "/demo/items/" + i)))
				.timeout(s.clientTimeout())
				.header("X-Request-Id", id);
			if (post && scenario.clientsRetryKeyedPosts()) {
				b.header("Idempotency-Key", id);
			}
			b = post ? b.POST(HttpRequest.BodyPublishers.ofString("{\"order\":" + i + "}")) : b.GET();
			int index = i;
			send(client, b.build(), post && scenario.clientsRetryKeyedPosts() ? 2 : 0, timer, (resp, err) -> {
				long end = System.nanoTime();
				samples[index] = err == null ? new Sample(due, end, post, id, resp.statusCode(), null)
						: new Sample(due, end, post, id, 0, kind(err));
				done.countDown();
			});
		}
		done.await(s.clientTimeout().toSeconds() + 10, TimeUnit.SECONDS);
		timer.shutdownNow();
		scenario.heal(replicas);
		replicas.forEach(r -> r.setArrivalLog(null));
		Map<String, Integer> executions = new java.util.HashMap<>();
		replicas.forEach(r -> r.executions().forEach((k, v) -> executions.merge(k, v, Integer::sum)));
		List<Sample> list = new ArrayList<>();
		for (Sample sample : samples) {
			if (sample != null) {
				list.add(sample);
			}
		}
		return new RunResult(system, scenario, s, start, faultAt, healAt, list, new ArrayList<>(arrivals), executions,
				replicas.get(0).id(), total, wallStart + scenario.healAt(s).toMillis(), null, null);
	}

	/**
	 * Sends a request; one that failed (5xx or no answer, and not a replayed answer) is sent again
	 * after 300 ms while {@code retries} last.
	 */
	private static void send(HttpClient client, HttpRequest request, int retries, ScheduledExecutorService timer,
			java.util.function.BiConsumer<HttpResponse<Void>, Throwable> done) {
		client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, err) -> {
			boolean failed = err != null || (resp.statusCode() >= 500
					&& resp.headers().firstValue("Idempotent-Replayed").isEmpty());
			if (failed && retries > 0) {
				try {
					timer.schedule(() -> send(client, request, retries - 1, timer, done), 300, TimeUnit.MILLISECONDS);
					return;
				}
				catch (java.util.concurrent.RejectedExecutionException e) {
					// the run is over
				}
			}
			done.accept(resp, err);
		});
	}

	private static String kind(Throwable err) {
		Throwable t = err.getCause() != null ? err.getCause() : err;
		return t.getClass().getSimpleName();
	}

}
