package dev.resiliencegateway.demo;

import java.util.Locale;

/**
 * Runs one demo replica on its own:
 * {@code java -Dloader.main=dev.resiliencegateway.demo.DemoReplicaMain -jar resilience-gateway.jar --port=9001 --id=r1}.
 */
public final class DemoReplicaMain {

	private DemoReplicaMain() {
	}

	public static void main(String[] args) throws Exception {
		int port = 9001;
		String id = null;
		String mode = "healthy";
		String bind = "127.0.0.1";
		for (String arg : args) {
			if (arg.startsWith("--port=")) {
				port = Integer.parseInt(arg.substring(7));
			}
			else if (arg.startsWith("--id=")) {
				id = arg.substring(5);
			}
			else if (arg.startsWith("--mode=")) {
				mode = arg.substring(7);
			}
			else if (arg.startsWith("--bind=")) {
				bind = arg.substring(7);
			}
			else {
				System.err.println("usage: DemoReplicaMain --port=9001 --id=r1 [--mode=healthy] [--bind=127.0.0.1]");
				System.exit(2);
			}
		}
		DemoReplica replica = new DemoReplica(id == null ? "replica-" + port : id, port, bind).start();
		replica.setMode(DemoReplica.Mode.valueOf(mode.toUpperCase(Locale.ROOT).replace('-', '_')));
		System.out.println("Demo replica " + replica.id() + " listening on " + bind + ":" + replica.port());
		Thread.currentThread().join();
	}

}
