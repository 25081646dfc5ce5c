package dev.resiliencegateway.demo;

import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.SpringApplication;

import dev.resiliencegateway.GatewayApplication;

/**
 * The demo in one command ({@code ./mvnw -Pdemo spring-boot:run}): three demo replicas on ports
 * 9001-9003, and the gateway on 8080 (management on 8081) with the {@code demo} profile.
 */
public final class DemoMain {

	private DemoMain() {
	}

	public static void main(String[] args) throws Exception {
		for (int i = 1; i <= 3; i++) {
			DemoReplica replica = new DemoReplica("replica-" + i, 9000 + i).start();
			System.out.println("Demo replica " + replica.id() + " on " + replica.url());
		}
		List<String> all = new ArrayList<>(List.of(args));
		all.add("--spring.profiles.active=demo");
		SpringApplication.run(GatewayApplication.class, all.toArray(String[]::new));
	}

}
