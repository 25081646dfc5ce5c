package dev.resiliencegateway.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.List;

import dev.resiliencegateway.demo.DemoReplica;

/**
 * The real replicas the integration tests run against, started once per test JVM on free loopback
 * ports, so every test class shares one Spring context.
 */
final class Replicas {

	/** Pool "svc": three healthy replicas the fault tests break one at a time. */
	static final List<DemoReplica> SVC = List.of(start("svc-1"), start("svc-2"), start("svc-3"));

	/** Pool "hang": one replica that never answers. */
	static final DemoReplica HANG = start("hang-1");

	/** Pool "reset": one replica that drops every connection. */
	static final DemoReplica RESET = start("reset-1");

	/** Pool "halfdead" (with a dead port) and "hedgepool" (with HANG2): healthy replicas. */
	static final DemoReplica SPARE = start("spare-1");

	static final DemoReplica SPARE2 = start("spare-2");

	/** Pool "hedgepool": a replica that never answers, beside SPARE2. */
	static final DemoReplica HANG2 = start("hang-2");

	/** Pool "abandon": a replica that never answers, for clients that give up waiting. */
	static final DemoReplica HANG3 = start("hang-3");

	/** Pool "riding": two replicas behind a route that rides through their outage. */
	static final List<DemoReplica> RIDE = List.of(start("ride-1"), start("ride-2"));

	/** Pool "quiet": two replicas whose ejected one is probed with a synthetic GET /ping. */
	static final List<DemoReplica> QUIET = List.of(start("quiet-1"), start("quiet-2"));

	/** Pool "idle": one replica behind the default health-check cadence, for the quiet-pool checks. */
	static final DemoReplica IDLE = start("idle-1");

	/** Pool "dead": nothing listens on these ports. */
	static final List<Integer> DEAD_PORTS = List.of(freePort(), freePort());

	static {
		HANG.setMode(DemoReplica.Mode.HANGING);
		HANG2.setMode(DemoReplica.Mode.HANGING);
		HANG3.setMode(DemoReplica.Mode.HANGING);
		RESET.setMode(DemoReplica.Mode.RESET);
	}

	private Replicas() {
	}

	private static DemoReplica start(String id) {
		try {
			return new DemoReplica(id, 0).start();
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	static int freePort() {
		try (ServerSocket s = new ServerSocket(0)) {
			return s.getLocalPort();
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

}
