package dev.resiliencegateway.it;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A steady load: requests sent one after another on a thread of their own (at most a given number), each
 * recorded with when it left, when it ended, its status (-1 for an exception) and the replica that
 * answered ({@code X-Gateway-Replica}, decision headers on).
 */
final class SteadyLoad {

	/** One request of the load. */
	record Sent(long atNanos, long doneNanos, int status, String replica) {
	}

	/** Sends request number {@code i}. */
	@FunctionalInterface
	interface Request {
		HttpResponse<?> send(int i) throws Exception;
	}

	private final List<Sent> sent = Collections.synchronizedList(new ArrayList<>());

	private final AtomicBoolean stop = new AtomicBoolean();

	private final Thread thread;

	private SteadyLoad(int maxRequests, Request request) {
		thread = new Thread(() -> {
			for (int i = 0; i < maxRequests && !stop.get(); i++) {
				long at = System.nanoTime();
				try {
					HttpResponse<?> r = request.send(i);
					sent.add(new Sent(at, System.nanoTime(), r.statusCode(),
							r.headers().firstValue("X-Gateway-Replica").orElse("-")));
				}
				catch (Exception e) {
					sent.add(new Sent(at, System.nanoTime(), -1, e.toString()));
				}
			}
		}, "steady-load");
	}

	static SteadyLoad start(int maxRequests, Request request) {
		SteadyLoad load = new SteadyLoad(maxRequests, request);
		load.thread.start();
		return load;
	}

	/** Stops sending, waits for the request in flight, and returns every request sent. */
	List<Sent> stop() throws InterruptedException {
		stop.set(true);
		thread.join(10_000);
		return List.copyOf(sent);
	}

}
