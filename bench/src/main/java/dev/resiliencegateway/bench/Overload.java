package dev.resiliencegateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.HdrHistogram.Histogram;

import dev.resiliencegateway.demo.DemoReplica;

/**
 * Overload (hardening c.3 C10): each system in front of the same three replicas under open-loop GETs
 * at rising rates, to find its peak goodput (answers of 200 within the client timeout, per second),
 * then at 2x and 4x the rate of that peak, then back at half of it. {@code bench/run.sh --overload}.
 *
 * <p>The system under test runs alone on the second core; the load generator ({@code hey}) and the
 * replicas share the first. The ratios, not the absolute rates, are the result, and the peers run
 * under the same conditions.
 */
final class Overload {

	record Step(String label, int rate, long ok, double goodput, double shedPercent, double otherFailPercent,
			double okP99, double shedP99, double shedWaitP99, double shedNewConnectionPercent) {
	}

	private Overload() {
	}

	static String run(Map<String, String> a, List<DemoReplica> replicas, Path work, String javaHome, Path jar)
			throws Exception {
		List<String> systems = List.of(a.getOrDefault("systems", "resilience-gateway,nginx").split(","));
		int[] rates = Arrays.stream(a.getOrDefault("rates", "2000,4000,6000,8000,10000").split(","))
			.mapToInt(Integer::parseInt).toArray();
		Duration step = Duration.ofSeconds(Long.parseLong(a.getOrDefault("duration", "10")));
		Duration timeout = Duration.ofMillis(Long.parseLong(a.getOrDefault("timeout-ms", "2000")));
		WORKERS = Integer.parseInt(a.getOrDefault("workers", "200"));
		List<Integer> ports = replicas.stream().map(DemoReplica::port).toList();
		// this JVM (the replicas) and the load generator on the first core; each system gets the second
		new ProcessBuilder("taskset", "-a", "-p", "-c", "0", String.valueOf(ProcessHandle.current().pid()))
			.redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
		StringBuilder md = new StringBuilder("# Overload ").append(LocalDate.now()).append("\n\n")
			.append("Open-loop GETs, ").append(step.toSeconds()).append(" s per step, client timeout ")
			.append(timeout.toMillis()).append(" ms; goodput = answers of 200 within the timeout per second. ")
			.append("Peak = the best goodput over the rates ").append(Arrays.toString(rates))
			.append("; then 2x and 4x the rate that gave it, then half of it (recovery). ")
			.append("The system under test has the second core to itself; hey (" + WORKERS + " workers, each at rate/" + WORKERS + " per second, ")
			.append("one request out at most: bounded open loop) and the replicas share the first. ")
			.append("A 503's wait is from its request written to the answer's first byte (hey's response-delay): ")
			.append("the part spent in the system, not in connecting; a 503 on a new connection is one whose request ")
			.append("had to dial first (the connection before was closed).\n\n")
			.append("Command: `bench/run.sh --overload")
			.append(a.containsKey("systems") ? " --systems=" + a.get("systems") : "")
			.append(a.containsKey("rates") ? " --rates=" + a.get("rates") : "")
			.append(a.containsKey("workers") ? " --workers=" + a.get("workers") : "").append("`\n\n")
			.append("| system | step | offered req/s | goodput req/s | goodput / peak | shed (503) % | other failures % | p99 of 200s ms | p99 of 503s ms | p99 of 503s' wait ms | 503s on a new connection % |\n")
			.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
		int port = 19080;
		for (String system : systems) {
			try (Systems.Running running = Systems.start(system, ports, port, work.resolve("overload-" + system), javaHome, jar)) {
				pin(running, "1");
				// warm-up (the JIT of the JVM systems), not reported
				measure(system, running, replicas, "warm-up", rates[0], Duration.ofSeconds(Benchmark.isJvm(system) ? 20 : 2), timeout);
				Step peak = null;
				for (int rate : rates) {
					Step s = measure(system, running, replicas, "ramp", rate, step, timeout);
					md.append(row(system, s, null));
					if (peak == null || s.goodput() > peak.goodput()) {
						peak = s;
					}
				}
				for (int m : new int[] { 2, 4 }) {
					md.append(row(system, measure(system, running, replicas, m + "x peak", peak.rate() * m, step, timeout), peak));
				}
				Step recovery = measure(system, running, replicas, "recovery (half the peak rate)", peak.rate() / 2, step, timeout);
				md.append(row(system, recovery, null).replace("|  |", String.format("| %.2f of offered |", recovery.goodput() / recovery.rate())));
			}
			port += 2;
		}
		Path out = Path.of(a.getOrDefault("out", "docs/benchmarks/overload-shedding"));
		Files.createDirectories(out);
		Files.writeString(out.resolve("results.md"), md);
		System.out.println(md);
		return md.toString();
	}

	/**
	 * Workers of the load generator: each keeps to its share of the rate and has one request out at
	 * most. hey's workers tick in step, so N workers send bursts of N; with 2000 of them every system
	 * here suffered from the bursts themselves (nginx's p99 at 2000 req/s went from 47 ms to 1.4 s),
	 * so 200, and the gateway's shedding is measured with a cap below that
	 * ({@code resilience-gateway-shedding}, max-in-flight 100).
	 */
	static int WORKERS = 200;

	/**
	 * One step with {@code hey} (bounded open loop: {@link #WORKERS} workers, each at rate / workers per
	 * second, a worker that waits on an answer skips its missed turns), pinned to the first core while
	 * the system under test has the second one to itself: on two shared cores the load generator,
	 * not the system, would otherwise be what saturates (measured with the JDK client as the generator:
	 * nginx itself then kept 9 % of its peak at 4x). Requests the generator could not send because its workers were all waiting count as
	 * not served.
	 */
	private static Step measure(String system, Systems.Running running, List<DemoReplica> replicas, String label,
			int rate, Duration duration, Duration timeout) throws Exception {
		System.out.printf("%s / %s at %d req/s ...%n", system, label, rate);
		int perWorker = Math.max(1, rate / WORKERS);
		long offered = (long) perWorker * WORKERS * duration.toSeconds();
		Process hey = new ProcessBuilder("taskset", "-c", "0", "hey", "-z", duration.toSeconds() + "s", "-c",
				String.valueOf(WORKERS), "-q", String.valueOf(perWorker), "-t", String.valueOf(timeout.toSeconds()), "-o", "csv",
				running.baseUrl() + "/demo/items/1")
			.redirectErrorStream(false)
			.start();
		long ok = 0;
		long shed = 0;
		Histogram okLatency = new Histogram(3);
		Histogram shedLatency = new Histogram(3);
		// hey's columns: response-time, DNS+dialup, DNS, request-write, response-delay, response-read,
		// status-code, offset; a reused connection has no dial-up. A 503's response-delay (request
		// written to first byte) bounds the system's part (hey, on the shared core, adds its own
		// delay in seeing the byte); the rest is connecting and the generator's own queue
		Histogram shedWait = new Histogram(3);
		long shedNew = 0;
		try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(hey.getInputStream()))) {
			String line;
			while ((line = lines.readLine()) != null) {
				String[] f = line.split(",");
				if (f.length < 7 || !Character.isDigit(f[0].charAt(0))) {
					continue; // the header row
				}
				long micros = Math.max(1, (long) (Double.parseDouble(f[0]) * 1_000_000));
				int status = Integer.parseInt(f[6]);
				if (status == 200 && micros <= timeout.toNanos() / 1000) {
					ok++;
					okLatency.recordValue(micros);
				}
				else if (status == 503) {
					shed++;
					shedLatency.recordValue(micros);
					shedWait.recordValue(Math.max(1, (long) (Double.parseDouble(f[4]) * 1_000_000)));
					if (Double.parseDouble(f[1]) > 0) {
						shedNew++;
					}
				}
			}
		}
		hey.waitFor();
		Step step = new Step(label, perWorker * WORKERS, ok, ok / (double) duration.toSeconds(), 100.0 * shed / offered,
				100.0 * Math.max(0, offered - ok - shed) / offered, okLatency.getValueAtPercentile(99) / 1000.0,
				shedLatency.getTotalCount() == 0 ? Double.NaN : shedLatency.getValueAtPercentile(99) / 1000.0,
				shed == 0 ? Double.NaN : shedWait.getValueAtPercentile(99) / 1000.0, shed == 0 ? Double.NaN : 100.0 * shedNew / shed);
		System.out.println("  " + row(system, step, null).trim());
		return step;
	}

	/** The system under test on the second core alone (all its processes and threads). */
	static void pin(Systems.Running running, String cpus) throws Exception {
		if (running.process() == null) {
			return;
		}
		List<Long> pids = new java.util.ArrayList<>();
		pids.add(running.process().pid());
		running.process().descendants().forEach(d -> pids.add(d.pid()));
		for (long pid : pids) {
			new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, String.valueOf(pid)).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start()
				.waitFor();
		}
	}

	private static String row(String system, Step s, Step peak) {
		return String.format("| %s | %s | %d | %.0f | %s | %.1f | %.1f | %.1f | %s | %s | %s |%n", system, s.label(), s.rate(),
				s.goodput(), peak == null ? "" : String.format("%.2f", s.goodput() / peak.goodput()), s.shedPercent(),
				s.otherFailPercent(), s.okP99(), orDash(s.shedP99()), orDash(s.shedWaitP99()), orDash(s.shedNewConnectionPercent()));
	}

	private static String orDash(double v) {
		return Double.isNaN(v) ? "-" : String.format("%.1f", v);
	}

}
