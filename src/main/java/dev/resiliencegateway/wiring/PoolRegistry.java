package dev.resiliencegateway.wiring;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;

import dev.resiliencegateway.checks.ActiveChecksBudget;
import dev.resiliencegateway.checks.ActiveHealthChecks;
import dev.resiliencegateway.checks.CheckRounds;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig.PoolConfig;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaEventSink;
import dev.resiliencegateway.health.ReplicaState;
import dev.resiliencegateway.pool.Replica;
import dev.resiliencegateway.support.Threads;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * Every pool of the gateway, and the one background thread that drives them: time-driven
 * transitions every 100 ms while some replica waits for a time, active health checks at each pool's
 * interval, and discovery refreshes. Nothing here runs on the request path.
 */
public final class PoolRegistry implements SmartLifecycle, ApplicationListener<HeartbeatEvent> {

	private static final Logger log = LoggerFactory.getLogger(PoolRegistry.class);

	/** How often ejections and slow starts are checked for their end. */
	static final Duration TICK = Duration.ofMillis(100);

	/** Replaced whole (copy on write) by a configuration change; read without a lock. */
	private volatile Map<String, PoolHealth> pools;

	private volatile Map<String, PoolConfig> configs;

	/** What new pools are built with (a configuration change may add one). */
	private final PoolHealth.Environment environment;

	/** Each pool's health checks and discovery refresh, cancelled when its configuration changes. */
	private final Map<String, List<ScheduledFuture<?>>> schedules = new java.util.HashMap<>();

	private final DiscoveryClient discovery;

	private final ActiveHealthChecks checks;

	private ScheduledExecutorService scheduler;

	private final List<Runnable> everySecond = new java.util.concurrent.CopyOnWriteArrayList<>();

	private volatile boolean running;

	/** Whether a tick is scheduled; ticks stop while no replica waits for a time (EJECTED, PROBING, RECOVERING). */
	private final AtomicBoolean ticking = new AtomicBoolean();

	/**
	 * @param upstream the client the checks and probes go through (the requests' own: its pooled
	 *        connections and each pool's TLS settings)
	 */
	public PoolRegistry(GatewayConfig config, PoolHealth.Environment env, DiscoveryClient discovery,
			UpstreamClient upstream) {
		this.checks = new ActiveHealthChecks(upstream);
		this.configs = config.pools();
		this.discovery = discovery;
		// every transition may start a wait for a time (an ejection, a slow start): ticks resume
		this.environment = env.alsoTelling(event -> wakeTicks());
		Map<String, PoolHealth> built = new LinkedHashMap<>();
		config.pools().forEach((name, pc) -> built.put(name, new PoolHealth(name, pc.policy(), environment, replicasOf(pc))));
		this.pools = java.util.Collections.unmodifiableMap(built);
	}

	private List<Replica> replicasOf(PoolConfig pc) {
		return pc.fromDiscovery() ? Objects.requireNonNullElse(discover(pc), List.of()) : pc.replicas();
	}

	/**
	 * A configuration change (validated: see GatewayConfigReloader). Pools kept keep their
	 * replicas' health and statistics and take the new policy and replica list (removed replicas
	 * drain, new ones join in slow start, a new weight applies at once); new pools start as at
	 * startup; removed pools are dropped (the validation made sure no route names them; requests in
	 * flight keep their pool and finish). Health checks and discovery refreshes of changed pools are rescheduled.
	 */
	public synchronized void apply(GatewayConfig next) {
		Map<String, PoolConfig> before = configs;
		Map<String, PoolHealth> built = new LinkedHashMap<>();
		next.pools().forEach((name, pc) -> {
			PoolHealth pool = pools.get(name);
			PoolConfig old = before.get(name);
			if (pool == null) {
				built.put(name, new PoolHealth(name, pc.policy(), environment, replicasOf(pc)));
				return;
			}
			// an operator's detect-only switch (admin endpoint) outlives a change that leaves the configured value alone
			HealthPolicy policy = old != null && old.policy().detectOnly() == pc.policy().detectOnly()
					? pc.policy().withDetectOnly(pool.policy().detectOnly()) : pc.policy();
			List<Replica> replicas = pc.fromDiscovery() ? discover(pc) : pc.replicas();
			pool.reconfigure(policy, replicas != null ? replicas : pool.replicas().stream().map(ReplicaHealth::replica).toList());
			built.put(name, pool);
		});
		pools = java.util.Collections.unmodifiableMap(built);
		configs = next.pools();
		if (running) {
			before.forEach((name, old) -> {
				if (!old.equals(next.pools().get(name))) {
					unschedule(name);
				}
			});
			next.pools().forEach((name, pc) -> {
				if (!pc.equals(before.get(name))) {
					schedule(name, pc, built.get(name));
				}
			});
		}
		wakeTicks();
	}

	/** The gateway's default environment for pools: system ticker and clock, and the given breaker factory. */
	static PoolHealth.Environment environment(Ticker ticker, ReplicaEventSink events,
			java.util.function.Function<String, CircuitBreaker> breakers) {
		return PoolHealth.Environment.of(ticker, InstantSource.system(), new Random(), events::publish, breakers);
	}

	public PoolHealth pool(String name) {
		PoolHealth pool = pools.get(name);
		if (pool == null) {
			throw new IllegalArgumentException("no pool named " + name);
		}
		return pool;
	}

	public PoolConfig config(String name) {
		return configs.get(name);
	}

	public Map<String, PoolHealth> pools() {
		return pools;
	}

	private List<Replica> discover(PoolConfig pc) {
		List<Replica> replicas = new ArrayList<>();
		try {
			for (ServiceInstance instance : discovery.getInstances(pc.serviceId())) {
				replicas.add(Replica.of(instance.getUri(), 1));
			}
		}
		catch (RuntimeException e) {
			log.warn("Discovery of service '{}' for pool '{}' failed: {}", pc.serviceId(), pc.name(), e.toString());
			return null;
		}
		return replicas;
	}

	/** Runs a task once a second on the pools' background thread (from start to stop). */
	public void everySecond(Runnable task) {
		everySecond.add(task);
	}

	@Override
	public synchronized void start() {
		scheduler = Executors.newSingleThreadScheduledExecutor(Threads.daemon("gateway-pools"));
		running = true;
		wakeTicks();
		scheduler.scheduleAtFixedRate(() -> everySecond.forEach(PoolRegistry::safely), 1, 1, TimeUnit.SECONDS);
		configs.forEach((name, pc) -> schedule(name, pc, pools.get(name)));
	}

	private void schedule(String name, PoolConfig pc, PoolHealth pool) {
		List<ScheduledFuture<?>> tasks = new ArrayList<>();
		if (pc.healthCheck().enabled()) {
			long every = pc.healthCheck().interval().toMillis();
			CheckRounds rounds = new CheckRounds(pc.healthCheck().interval(), pc.healthCheck().noTrafficInterval());
			ActiveChecksBudget budget = new ActiveChecksBudget();
			tasks.add(scheduler.scheduleAtFixedRate(() -> safely(() -> {
				if (rounds.due(pool.now(), pool::quietSince)) {
					checks.checkAll(pool, pc.healthCheck(), budget);
				}
			}), 0, every, TimeUnit.MILLISECONDS));
		}
		if (pc.fromDiscovery()) {
			long every = pc.discoveryRefresh().toMillis();
			tasks.add(scheduler.scheduleAtFixedRate(() -> safely(() -> refresh(pc, pool)), every, every, TimeUnit.MILLISECONDS));
		}
		schedules.put(name, tasks);
	}

	private void unschedule(String name) {
		List<ScheduledFuture<?>> tasks = schedules.remove(name);
		if (tasks != null) {
			tasks.forEach(t -> t.cancel(false));
		}
	}

	private void refresh(PoolConfig pc, PoolHealth pool) {
		List<Replica> latest = discover(pc);
		if (latest != null) {
			// replicas gone are drained (their requests in flight finish), new ones join in slow start,
			// replicas kept keep their health and statistics
			pool.setReplicas(latest, ReplicaState.RECOVERING);
			wakeTicks();
		}
	}

	/** Whether a refresh of every discovered pool is queued on the background thread (coalesces a burst of events). */
	private final AtomicBoolean refreshQueued = new AtomicBoolean();

	/**
	 * The registry says its catalog changed (Spring Cloud's {@link HeartbeatEvent}, published by the
	 * Kubernetes, Consul and Eureka discovery clients' catalog watches): every discovered pool is
	 * refreshed now, on the background thread, instead of at its next {@code discovery-refresh}. A
	 * pod that Kubernetes removes stops getting new requests as soon as the watch reports it.
	 */
	@Override
	public void onApplicationEvent(HeartbeatEvent event) {
		ScheduledExecutorService s = scheduler;
		if (!running || s == null || !refreshQueued.compareAndSet(false, true)) {
			return;
		}
		try {
			s.execute(() -> {
				refreshQueued.set(false);
				Map<String, PoolHealth> now = pools;
				configs.forEach((name, pc) -> {
					if (pc.fromDiscovery() && now.get(name) != null) {
						safely(() -> refresh(pc, now.get(name)));
					}
				});
			});
		}
		catch (java.util.concurrent.RejectedExecutionException e) {
			refreshQueued.set(false); // stopping
		}
	}

	/**
	 * Time-driven transitions (ejection over, slow start complete) every {@link #TICK}, but only while
	 * some replica waits for a time: an idle gateway with healthy replicas does not wake ten times a
	 * second for nothing. Transitions and discovery wake the ticks up again.
	 */
	private void tick() {
		boolean waiting = false;
		Map<String, PoolConfig> settings = configs;
		for (Map.Entry<String, PoolHealth> e : pools.entrySet()) {
			PoolHealth pool = e.getValue();
			PoolConfig pc = settings.get(e.getKey());
			safely(pool::tick);
			if (pc != null) {
				safely(() -> outOfRotation(pool, pc));
			}
			waiting |= pool.awaitsTime();
		}
		if (waiting) {
			scheduleTick();
			return;
		}
		ticking.set(false);
		// a transition between the loop above and the line above found ticking still true: look again
		for (PoolHealth pool : pools.values()) {
			if (pool.awaitsTime()) {
				wakeTicks();
				return;
			}
		}
	}

	/**
	 * Replicas out of rotation are looked at on their own schedule (a short first wait, backing off
	 * while they keep failing): the rechecks of those marked down by their checks, and a synthetic
	 * probe for an ejected replica whose probe is overdue because no request came to ride on (a
	 * quiet route), when the pool names a {@code probe-path}.
	 */
	private void outOfRotation(PoolHealth pool, PoolConfig pc) {
		if (pc.healthCheck().enabled()) {
			for (ReplicaHealth r : pool.rechecksDue()) {
				checks.check(pc.name(), r, pc.healthCheck());
			}
		}
		if (pc.probePath() != null) {
			for (ReplicaHealth r : pool.claimOverdueProbes(TICK.toNanos())) {
				checks.probe(pc.name(), r, pc.probePath(), pc.healthCheck().timeout());
			}
		}
	}

	private void wakeTicks() {
		if (running && ticking.compareAndSet(false, true)) {
			scheduleTick();
		}
	}

	private void scheduleTick() {
		try {
			scheduler.schedule(this::tick, TICK.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (java.util.concurrent.RejectedExecutionException stopped) {
			ticking.set(false); // shutting down
		}
	}

	private static void safely(Runnable task) {
		try {
			task.run();
		}
		catch (RuntimeException e) {
			log.warn("Background pool task failed; it will run again: {}", e.toString());
		}
	}

	@Override
	public synchronized void stop() {
		running = false;
		ticking.set(false);
		if (scheduler != null) {
			scheduler.shutdownNow();
		}
		checks.close();
	}

	/**
	 * Started before the web server and stopped after it: ticks, checks and discovery keep running
	 * while the web server drains its requests at shutdown, so an ejection can still expire and a
	 * replica that fails during the drain is still routed around. (The default phase would stop the
	 * pools first, at the very start of shutdown.)
	 */
	@Override
	public int getPhase() {
		return PHASE;
	}

	/** Below the web server's start/stop phase (Boot's WebServerStartStopLifecycle, DEFAULT_PHASE - 2048). */
	static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

	@Override
	public boolean isRunning() {
		return running;
	}

}
