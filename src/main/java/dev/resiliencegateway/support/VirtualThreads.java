package dev.resiliencegateway.support;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Executors that use virtual threads where the runtime has them (21+) and daemon platform threads on 17. */
public final class VirtualThreads {

	private VirtualThreads() {
	}

	/** A thread per task: virtual on 21+, else a cached pool of daemon threads called {@code platformName}. */
	public static ExecutorService perTask(String platformName) {
		try {
			// reflective so the code compiles for release 17
			return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
		}
		catch (ReflectiveOperationException e) {
			return Executors.newCachedThreadPool(r -> {
				Thread t = new Thread(r, platformName);
				t.setDaemon(true);
				return t;
			});
		}
	}

}
