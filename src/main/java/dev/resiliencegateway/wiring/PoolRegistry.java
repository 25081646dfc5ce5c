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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;

import dev.resiliencegateway.checks.ActiveHealthChecks;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig.PoolConfig;
import dev.resiliencegateway.config.GatewayConfig;
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

	private final Map<String, PoolHealth> pools = new LinkedHashMap<>();

	private final Map<String, PoolConfig> configs;

	private final DiscoveryClient discovery;

	private final ActiveHealthChecks checks = new ActiveHealthChecks();

	private ScheduledExecutorService scheduler;

	private final List<Runnable> everySecond = new java.util.concurrent.CopyOnWriteArrayList<>();

	private volatile boolean running;

	/** Whether a tick is scheduled; ticks stop while no replica waits for a time (EJECTED, PROBING, RECOVERING). */
	private final AtomicBoolean ticking = new AtomicBoolean();

	public PoolRegistry(GatewayConfig config, PoolHealth.Environment env, DiscoveryClient discovery) {
		this.configs = config.pools();
		this.discovery = discovery;
		// every transition may start a wait for a time (an ejection, a slow start): ticks resume
		PoolHealth.Environment waking = env.alsoTelling(event -> wakeTicks());
		config.pools().forEach((name, pc) -> {
			List<Replica> replicas = pc.fromDiscovery() ? Objects.requireNonNullElse(discover(pc), List.of()) : pc.replicas();
			pools.put(name, new PoolHealth(name, pc.policy(), waking, replicas));
		});
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
		configs.forEach((name, pc) -> {
			PoolHealth pool = pools.get(name);
			if (pc.healthCheck().enabled()) {
				long every = pc.healthCheck().interval().toMillis();
				scheduler.scheduleAtFixedRate(() -> safely(() -> checks.checkAll(pool, pc.healthCheck())), 0, every,
						TimeUnit.MILLISECONDS);
			}
			if (pc.fromDiscovery()) {
				long every = pc.discoveryRefresh().toMillis();
				scheduler.scheduleAtFixedRate(() -> safely(() -> refresh(pc, pool)), every, every, TimeUnit.MILLISECONDS);
			}
		});
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
				configs.forEach((name, pc) -> {
					if (pc.fromDiscovery()) {
						safely(() -> refresh(pc, pools.get(name)));
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
		for (Map.Entry<String, PoolHealth> e : pools.entrySet()) {
			PoolHealth pool = e.getValue();
			safely(pool::tick);
			safely(() -> outOfRotation(pool, configs.get(e.getKey())));
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
				checks.check(r, pc.healthCheck());
			}
		}
		if (pc.probePath() != null) {
			for (ReplicaHealth r : pool.claimOverdueProbes(TICK.toNanos())) {
				checks.probe(r, pc.probePath(), pc.healthCheck().timeout());
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
