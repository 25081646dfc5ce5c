package bench.stock;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.client.RestTemplate;

/** Stock Spring Cloud Gateway Server MVC with its own Retry filter and LoadBalancer health checks. */
@SpringBootApplication
public class StockGateway {

	/** The LoadBalancer's health-check supplier only activates when a RestTemplate bean exists. */
	@Bean
	RestTemplate restTemplate() {
		return new RestTemplate();
	}

	public static void main(String[] args) {
		SpringApplication.run(StockGateway.class, args);
	}

}
