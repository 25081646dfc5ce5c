package dev.resiliencegateway.support;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * The gateway's threads, made in one place: virtual threads where the runtime has them (21+), and
 * named daemon platform threads for background work (a daemon thread never holds a JVM open).
 */
public final class Threads {

	private Threads() {
	}

	/** A thread per task: virtual on 21+, else a cached pool of daemon threads called {@code platformName}. */
	public static ExecutorService perTask(String platformName) {
		try {
			// reflective so the code compiles for release 17
			return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
		}
		catch (ReflectiveOperationException e) {
			return Executors.newCachedThreadPool(daemon(platformName));
		}
	}

	/** Named daemon platform threads, for the gateway's background work. */
	public static ThreadFactory daemon(String name) {
		return r -> {
			Thread t = new Thread(r, name);
			t.setDaemon(true);
			return t;
		};
	}

}
