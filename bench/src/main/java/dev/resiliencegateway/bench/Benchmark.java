package dev.resiliencegateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.HdrHistogram.Histogram;

import dev.resiliencegateway.demo.DemoReplica;

/**
 * The resilience and overhead benchmark: {@code bench/run.sh} (see docs/benchmarks.md). Three demo
 * replicas run in this JVM; each system under test runs as its own process in front of them; the
 * open-loop load comes from this JVM. Writes a markdown report and PNG charts.
 */
public final class Benchmark {

	private Benchmark() {
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> a = new LinkedHashMap<>();
		for (String arg : args) {
			int eq = arg.indexOf('=');
			a.put(arg.substring(2, eq < 0 ? arg.length() : eq), eq < 0 ? "true" : arg.substring(eq + 1));
		}
		List<String> systems = List.of(a.getOrDefault("systems", "resilience-gateway,resilience-gateway-hedged,stock-scg,nginx,haproxy,caddy").split(","));
		List<Scenario> scenarios = a.getOrDefault("scenarios", "all").equals("all") ? List.of(Scenario.values())
				: Arrays.stream(a.get("scenarios").split(",")).map(s -> Scenario.valueOf(s.toUpperCase().replace('-', '_'))).toList();
		LoadRun.Settings settings = new LoadRun.Settings(Integer.parseInt(a.getOrDefault("rate", "300")),
				Duration.ofSeconds(Long.parseLong(a.getOrDefault("duration", "30"))),
				Duration.ofSeconds(Long.parseLong(a.getOrDefault("fault-start", "10"))),
				Duration.ofSeconds(Long.parseLong(a.getOrDefault("fault-end", "20"))),
				Double.parseDouble(a.getOrDefault("post-share", "0.2")), Duration.ofSeconds(10));
		Path out = Path.of(a.getOrDefault("out", "docs/benchmarks"));
		Path work = Path.of(a.getOrDefault("work", "target/bench")).toAbsolutePath();
		String javaHome = a.getOrDefault("java-home", System.getProperty("java.home"));
		Path jar = Path.of(a.getOrDefault("jar", "target/resilience-gateway.jar"));
		Files.createDirectories(out);

		List<DemoReplica> replicas = new ArrayList<>();
		for (int i = 1; i <= 3; i++) {
			replicas.add(new DemoReplica("replica-" + i, 0).start());
		}
		List<Integer> ports = replicas.stream().map(DemoReplica::port).toList();
		if (a.containsKey("overload")) {
			Overload.run(a, replicas, work, javaHome, jar);
			replicas.forEach(DemoReplica::close);
			System.exit(0);
		}
		StringBuilder md = new StringBuilder();
		md.append("# Benchmark results ").append(LocalDate.now()).append("\n\n")
			.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores; load generator, replicas and the system under test share them. ")
			.append("Java: ").append(Runtime.version()).append(" (gateway run with ").append(javaHome).append(").\n\n")
			.append("Command: `bench/run.sh ").append(String.join(" ", args)).append("`\n\n")
			.append("Open-loop ").append(settings.rate()).append(" req/s for ").append(settings.duration().toSeconds())
			.append(" s, ").append(Math.round(settings.postShare() * 100)).append(" % POST; fault on replica-1 from t=")
			.append(settings.faultStart().toSeconds()).append(" s to t=").append(settings.faultEnd().toSeconds()).append(" s.\n\n");

		// The load generator and the replicas run in this JVM: warm their code up on the replicas directly
		// first, each in turn, so the first system measured does not pay for their JIT (before this, the
		// system measured first had the worse p99 in four runs out of four, whichever it was)
		for (int replicaPort : ports) {
			warmUp(new Systems.Running("direct", "http://127.0.0.1:" + replicaPort, null, ""), replicas, 8, settings);
		}
		int port = 18080;
		for (Scenario scenario : scenarios) {
			List<RunResult> runs = new ArrayList<>();
			for (String system : systems) {
				try (Systems.Running running = Systems.start(system, ports, port, work.resolve(system), javaHome, jar)) {
					warmUp(running, replicas, isJvm(system) ? 10 : 2, settings);
					System.out.printf("%s / %s ...%n", scenario.title, system);
					RunResult r = LoadRun.run(system, running.baseUrl(), replicas, scenario, settings);
					if (running.adminUrl() != null && (scenario.singleVictim() || scenario.allDown())) {
						long faultWallMillis = r.healWallMillis() - (scenario.healAt(settings).toMillis() - settings.faultStart().toMillis());
						List<String> events = victimEvents(running.adminUrl(), replicas.get(0).port());
						r = r.withReadmitted(readmitted(events, r.healWallMillis()), ejected(events, faultWallMillis));
					}
					runs.add(r);
					System.out.println("  " + row(r));
					System.out.println("  slowest: " + r.slowest(3));
					double[] perSecond = r.perSecond()[0];
					StringBuilder line = new StringBuilder("  success % by second:");
					for (double v : perSecond) {
						line.append(' ').append(Math.round(v));
					}
					System.out.println(line);
				}
				Thread.sleep(500);
				port += 2;
			}
			md.append("## ").append(scenario.title).append("\n\n").append(header());
			runs.forEach(r -> md.append(row(r)).append('\n'));
			String png = "chart-" + scenario.name().toLowerCase().replace('_', '-') + ".png";
			Charts.write(out.resolve(png), scenario.title, runs);
			md.append("\n![").append(scenario.title).append("](").append(png).append(")\n\n");
			Files.writeString(out.resolve("results.md"), md);
		}
		if (a.containsKey("overhead")) {
			md.append(overhead(systems, ports, work, javaHome, jar, replicas, settings));
			md.append(startTimes(systems, ports, work, javaHome, jar));
		}
		Files.writeString(out.resolve("results.md"), md);
		replicas.forEach(DemoReplica::close);
		System.out.println("wrote " + out.resolve("results.md"));
		System.exit(0);
	}

	/** The JVM gateways need a warm-up before they are measured (the JIT); the others get 2 s. */
	static boolean isJvm(String system) {
		return system.startsWith("resilience-gateway") || system.equals("stock-scg");
	}

	static void warmUp(Systems.Running running, List<DemoReplica> replicas, int seconds, LoadRun.Settings s)
			throws InterruptedException {
		if (seconds <= 0) {
			return;
		}
		LoadRun.run("warm-up", running.baseUrl(), replicas, Scenario.HEALTHY, new LoadRun.Settings(s.rate(),
				Duration.ofSeconds(seconds), Duration.ofSeconds(seconds), Duration.ofSeconds(seconds), s.postShare(),
				s.clientTimeout()));
	}

	/**
	 * The gateway's events about the faulty replica, oldest first, from its event log
	 * ({@code /actuator/replicas}); null when the log cannot be read. With {@code BENCH_EVENTS} set,
	 * they are printed too.
	 */
	static List<String> victimEvents(String adminUrl, int victimPort) {
		try {
			java.net.http.HttpResponse<String> resp = java.net.http.HttpClient.newHttpClient()
				.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(adminUrl + "/actuator/replicas")).build(),
						java.net.http.HttpResponse.BodyHandlers.ofString());
			Matcher event = Pattern.compile("\\{[^{}]*\"replica\":\"127\\.0\\.0\\.1:" + victimPort + "\"[^{}]*\\}")
				.matcher(resp.body());
			List<String> events = new ArrayList<>();
			while (event.find()) {
				events.add(event.group());
			}
			if (System.getenv("BENCH_EVENTS") != null) {
				events.forEach(e -> System.out.println("  event: " + e));
			}
			return events;
		}
		catch (IOException | RuntimeException e) {
			return null;
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return null;
		}
	}

	/**
	 * Seconds from healing until the gateway put the faulty replica back into rotation: its first
	 * transition from out of rotation (EJECTED, PROBING, DOWN, DRAINED) into it after the heal; 0 when
	 * it was in rotation when the fault healed; null when it never came back or the log was unreadable.
	 */
	static Double readmitted(List<String> events, long healWallMillis) {
		if (events == null) {
			return null;
		}
		java.util.Set<String> out = java.util.Set.of("EJECTED", "PROBING", "DOWN", "DRAINED");
		String stateAtHeal = "HEALTHY";
		long first = Long.MAX_VALUE;
		for (String e : events) {
			String from = field(e, "from");
			String to = field(e, "to");
			String at = field(e, "at");
			if (from == null || to == null || at == null) {
				continue;
			}
			long millis = java.time.Instant.parse(at).toEpochMilli();
			if (millis < healWallMillis) {
				stateAtHeal = to;
			}
			else if (out.contains(from) && !out.contains(to)) {
				first = Math.min(first, millis);
			}
		}
		if (!out.contains(stateAtHeal)) {
			return 0.0;
		}
		return first == Long.MAX_VALUE ? null : (first - healWallMillis) / 1000.0;
	}

	/** Seconds from the fault until the gateway first took the replica out of rotation (EJECTED or DOWN). */
	static Double ejected(List<String> events, long faultWallMillis) {
		if (events == null) {
			return null;
		}
		for (String e : events) {
			String to = field(e, "to");
			String at = field(e, "at");
			if (to != null && at != null && (to.equals("EJECTED") || to.equals("DOWN"))) {
				long millis = java.time.Instant.parse(at).toEpochMilli();
				if (millis >= faultWallMillis) {
					return (millis - faultWallMillis) / 1000.0;
				}
			}
		}
		return null;
	}

	private static String field(String json, String name) {
		Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]+)\"").matcher(json);
		return m.find() ? m.group(1) : null;
	}

	public static void chart(Path file, String title, List<RunResult> runs) throws IOException {
		Charts.write(file, title, runs);
	}

	static String header() {
		return "| system | success % | GET success % | non-2xx / errors | non-2xx p99 ms | p50 ms | p99 ms | p99.9 ms | max ms | ejected after (s) | stops getting traffic after (s) | traffic again after healing (s) | readmitted after healing (s) | failed POSTs | duplicated POSTs | lost POSTs | backend attempts per request |\n"
				+ "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
	}

	public static String row(RunResult r) {
		Histogram h = r.latencies();
		return String.format("| %s | %.2f | %.2f | %s | %s | %.1f | %.1f | %.1f | %.0f | %s | %s | %s | %s | %d | %d | %d | %.2f |", r.system(),
				r.successPercent(), r.getSuccessPercent(), r.failures().isEmpty() ? "-" : r.failures().toString().replaceAll("[{}]", ""),
				r.failedP99Millis() == null ? "-" : String.format("%.1f", r.failedP99Millis()),
				h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
				h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0,
				r.ejectedSeconds() == null ? "n/a" : String.format("%.2f", r.ejectedSeconds()), fmt(r.stopSeconds()),
				r.backSeconds() == null ? "n/a" : String.format("%.2f", r.backSeconds()), r.readmittedSeconds() == null ? "n/a" : String.format("%.2f", r.readmittedSeconds()),
				r.failedPosts(), r.duplicatedPosts(), r.lostPosts(), r.attemptsPerRequest());
	}

	private static String fmt(Double d) {
		return d == null ? "n/a" : String.format("%.1f", d);
	}

	/** Max throughput with wrk (closed loop, 2 threads, 50 connections), alternating systems, twice. */
	static String overhead(List<String> systems, List<Integer> ports, Path work, String javaHome, Path jar,
			List<DemoReplica> replicas, LoadRun.Settings settings) throws Exception {
		List<String> all = new ArrayList<>(List.of("direct"));
		all.addAll(systems);
		Map<String, List<double[]>> results = new LinkedHashMap<>();
		Map<String, Long> rss = new LinkedHashMap<>();
		Map<String, Double> cpuPerKreq = new LinkedHashMap<>();
		int port = 19080;
		for (int round = 0; round < 2; round++) {
			for (String system : all) {
				try (Systems.Running running = Systems.start(system, ports, port, work.resolve(system), javaHome, jar)) {
					if (isJvm(system)) {
						wrk(running.baseUrl(), 20); // JIT warm-up
					}
					double cpuBefore = running.process() != null ? Systems.cpuSeconds(running.process()) : -1;
					double[] r = wrk(running.baseUrl(), 15);
					if (running.process() != null && cpuBefore >= 0) {
						double cpu = Systems.cpuSeconds(running.process()) - cpuBefore;
						cpuPerKreq.put(system, cpu / (r[0] * 15 / 1000.0) * 1000); // CPU ms per 1000 requests
					}
					results.computeIfAbsent(system, k -> new ArrayList<>()).add(r);
					if (running.process() != null) {
						rss.merge(system, Systems.rssKb(running.process()), Math::max);
					}
					System.out.printf("overhead %s round %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms%n", system, round, r[0], r[1], r[2]);
				}
				port += 2;
			}
		}
		double direct = results.get("direct").stream().mapToDouble(x -> x[0]).average().orElse(1);
		double nginx = results.containsKey("nginx") ? results.get("nginx").stream().mapToDouble(x -> x[0]).average().orElse(1) : 1;
		StringBuilder md = new StringBuilder("## Overhead: maximum throughput\n\n")
			.append("`wrk -t2 -c50 -d15s` on a GET through each system to the three replicas (direct: one replica), two alternating rounds; ")
			.append("the gateway after a 20 s warm-up. Ratios to direct and to nginx measured in the same run.\n\n")
			.append("| system | req/s (round 1, round 2) | vs direct | vs nginx | p50 ms | p99 ms | RSS after load (MiB) | CPU ms per 1000 requests |\n|---|---|---|---|---|---|---|---|\n");
		for (var e : results.entrySet()) {
			double avg = e.getValue().stream().mapToDouble(x -> x[0]).average().orElse(0);
			md.append(String.format("| %s | %s | %.2f | %.2f | %.2f | %.2f | %s | %s |%n", e.getKey(),
					e.getValue().stream().map(x -> String.format("%.0f", x[0])).toList(), avg / direct, avg / nginx,
					e.getValue().get(e.getValue().size() - 1)[1], e.getValue().get(e.getValue().size() - 1)[2],
					rss.containsKey(e.getKey()) ? String.valueOf(rss.get(e.getKey()) / 1024) : "n/a",
					cpuPerKreq.containsKey(e.getKey()) ? String.format("%.0f", cpuPerKreq.get(e.getKey())) : "n/a"));
		}
		return md.append('\n').toString();
	}

	/**
	 * Launch to ready, three alternating rounds: from starting the process to its readiness (the
	 * gateways' {@code /actuator/health/readiness} 200, stock SCG MVC's health, the peers' port
	 * accepting), polled every 20 ms (10 ms for the peers' port). The gateway is started twice, from
	 * its jar and from the AOT cache next to it ({@code resilience-gateway-aot}) when that was built.
	 */
	static String startTimes(List<String> systems, List<Integer> ports, Path work, String javaHome, Path jar)
			throws Exception {
		List<String> all = new ArrayList<>();
		for (String system : systems) {
			if (system.equals("resilience-gateway") || system.equals("stock-scg") || system.equals("nginx")
					|| system.equals("haproxy") || system.equals("caddy")) {
				all.add(system);
			}
			if (system.equals("resilience-gateway")
					&& Files.exists(jar.toAbsolutePath().getParent().resolve("aot").resolve("app.aot"))) {
				all.add("resilience-gateway-aot");
			}
		}
		Map<String, List<Long>> millis = new LinkedHashMap<>();
		int port = 19280;
		for (int round = 0; round < 3; round++) {
			for (String system : all) {
				long t0 = System.nanoTime();
				try (Systems.Running running = Systems.start(system, ports, port, work.resolve(system + "-start"), javaHome, jar)) {
					long ms = (System.nanoTime() - t0) / 1_000_000;
					millis.computeIfAbsent(system, k -> new ArrayList<>()).add(ms);
					System.out.printf("start %s round %d: ready after %d ms%n", system, round, ms);
				}
				Thread.sleep(1000); // the port and the CPU settle before the next start
				port += 2;
			}
		}
		StringBuilder md = new StringBuilder("## Start: launch to ready\n\n")
			.append("From starting the process to readiness (the gateway's `/actuator/health/readiness` 200; stock SCG MVC's ")
			.append("`/actuator/health`; the peers' port accepting), three alternating rounds, polled every 20 ms. ")
			.append("`resilience-gateway-aot` is the same jar started from the JDK's AOT cache (`docker/aot-cache.sh`), ")
			.append("as the Docker image starts it.\n\n")
			.append("| system | ready after ms (3 rounds) | mean ms |\n|---|---|---|\n");
		millis.forEach((system, list) -> md.append(String.format("| %s | %s | %.0f |%n", system, list,
				list.stream().mapToLong(Long::longValue).average().orElse(0))));
		return md.append('\n').toString();
	}

	/** Runs wrk; returns {req/s, p50 ms, p99 ms}. */
	static double[] wrk(String baseUrl, int seconds) throws IOException, InterruptedException {
		Process p = new ProcessBuilder("wrk", "-t2", "-c50", "-d" + seconds + "s", "--latency", baseUrl + "/demo/items/1")
			.redirectErrorStream(true)
			.start();
		String out = new String(p.getInputStream().readAllBytes());
		p.waitFor();
		return new double[] { number(out, "Requests/sec:\\s+([0-9.]+)"), millis(out, "50%\\s+([0-9.]+)(us|ms|s)"),
				millis(out, "99%\\s+([0-9.]+)(us|ms|s)") };
	}

	private static double number(String text, String regex) {
		Matcher m = Pattern.compile(regex).matcher(text);
		return m.find() ? Double.parseDouble(m.group(1)) : -1;
	}

	private static double millis(String text, String regex) {
		Matcher m = Pattern.compile(regex).matcher(text);
		if (!m.find()) {
			return -1;
		}
		double v = Double.parseDouble(m.group(1));
		return switch (m.group(2)) {
			case "us" -> v / 1000;
			case "s" -> v * 1000;
			default -> v;
		};
	}

}
