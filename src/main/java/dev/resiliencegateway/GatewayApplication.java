package dev.resiliencegateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** Resilience Gateway: Spring Cloud Gateway Server MVC routes, sent to pools of replicas through one resilient exchange. */
@SpringBootApplication
public class GatewayApplication {

	public static void main(String[] args) {
		SpringApplication.run(GatewayApplication.class, args);
	}

}
