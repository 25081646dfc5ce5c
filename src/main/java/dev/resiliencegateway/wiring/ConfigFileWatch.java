package dev.resiliencegateway.wiring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.context.refresh.ContextRefresher;
import org.springframework.context.SmartLifecycle;

import dev.resiliencegateway.config.InvalidConfigurationException;
import dev.resiliencegateway.support.Threads;

/**
 * Rereads the configuration when its files change, as {@code POST /actuator/refresh} would: on
 * Kubernetes the kubelet rewrites a mounted ConfigMap's files (within about a minute of
 * {@code kubectl apply}), and every gateway copy picks the change up by itself, through the same
 * check (an invalid change is refused and logged; the running configuration stays until the files
 * change again).
 *
 * <p>Hand-written because nothing kept for production does it: Spring Boot's file watcher (for SSL
 * bundles) is not public, DevTools' is for development, and Spring Cloud Kubernetes' reload is
 * deprecated in favour of a separate controller. It compares the files' contents every interval
 * rather than listening for file events: a ConfigMap volume swaps a symbolic link, which file event
 * APIs report unevenly, and the files are a few kilobytes.
 */
final class ConfigFileWatch implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(ConfigFileWatch.class);

	private final List<Path> locations;

	private final Duration interval;

	private final ContextRefresher refresher;

	private ScheduledExecutorService scheduler;

	private String seen;

	private volatile boolean running;

	/**
	 * @param locations files, or directories whose {@code application*.yml|yaml|properties} files count
	 */
	ConfigFileWatch(List<Path> locations, Duration interval, ContextRefresher refresher) {
		this.locations = locations;
		this.interval = interval;
		this.refresher = refresher;
	}

	/** The files' contents as one digest; files that come and go count too. */
	String digest() {
		try {
			MessageDigest sha = MessageDigest.getInstance("SHA-256");
			for (Path file : files()) {
				sha.update(file.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
				try {
					sha.update(Files.readAllBytes(file));
				}
				catch (IOException gone) {
					sha.update((byte) 0); // being swapped: the next look sees the new one
				}
			}
			return HexFormat.of().formatHex(sha.digest());
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	private List<Path> files() {
		List<Path> files = new ArrayList<>();
		for (Path location : locations) {
			if (Files.isDirectory(location)) {
				try (Stream<Path> list = Files.list(location)) {
					list.filter(p -> p.getFileName().toString().matches("application.*\\.(ya?ml|properties)"))
						.sorted()
						.forEach(files::add);
				}
				catch (IOException e) {
					// unreadable for now: counts as empty
				}
			}
			else if (Files.exists(location)) {
				files.add(location);
			}
		}
		return files;
	}

	void check() {
		String now = digest();
		if (now.equals(seen)) {
			return;
		}
		seen = now; // an invalid change is tried once, not every interval; the next edit is tried again
		try {
			log.info("Configuration files changed: rereading them {}", locations);
			refresher.refresh();
		}
		catch (InvalidConfigurationException refused) {
			// logged by the refresher with its message; the running configuration stays
		}
		catch (RuntimeException e) {
			log.warn("Rereading the changed configuration failed; the running configuration stays: {}", e.toString());
		}
	}

	@Override
	public synchronized void start() {
		if (locations.isEmpty()) {
			// on by default in the kubernetes profile, which may run without files (all in environment variables)
			log.warn("resilience.gateway.config-watch is on, but no configuration file is named by spring.config.location, "
					+ "additional-location or import: nothing to watch");
			return;
		}
		seen = digest();
		scheduler = Executors.newSingleThreadScheduledExecutor(Threads.daemon("gateway-config-watch"));
		long every = interval.toMillis();
		scheduler.scheduleWithFixedDelay(() -> {
			try {
				check();
			}
			catch (RuntimeException e) {
				log.warn("Configuration file check failed; it will run again: {}", e.toString());
			}
		}, every, every, TimeUnit.MILLISECONDS);
		running = true;
		log.info("Watching {} for configuration changes every {} ms", locations, every);
	}

	@Override
	public synchronized void stop() {
		running = false;
		if (scheduler != null) {
			scheduler.shutdownNow();
		}
	}

	@Override
	public boolean isRunning() {
		return running;
	}

}
