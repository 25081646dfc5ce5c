package dev.resiliencegateway.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.resiliencegateway.demo.DemoReplica;

import static org.assertj.core.api.Assertions.assertThat;

/** The live status page in real headless Chromium (Debian's chromium and chromium-driver). */
class StatusPageIT extends GatewayIT {

	private static WebDriver chromium() {
		Path browser = Path.of("/usr/bin/chromium");
		Path driver = Path.of("/usr/bin/chromedriver");
		if (!Files.isExecutable(browser) || !Files.isExecutable(driver)) {
			assertThat(System.getenv("CI")).as("chromium and chromium-driver must be installed in CI (.ci/run does)").isNull();
			dev.resiliencegateway.TestConsole.warn("SKIPPED LOUDLY: apt-get install chromium chromium-driver to run the status page test");
			Assumptions.abort("SKIPPED LOUDLY: apt-get install chromium chromium-driver to run the status page test");
		}
		ChromeOptions options = new ChromeOptions();
		options.setBinary(browser.toFile());
		options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
				"--window-size=1400,1000");
		ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).build();
		return new ChromeDriver(service, options);
	}

	/** The page re-renders every second, so elements are looked up afresh each time (waits ignore stale ones). */
	private static String state(WebDriver browser, String replicaId) {
		return browser.findElement(By.cssSelector(".pool[data-pool='svc'] .card[data-replica='" + replicaId + "'] .state"))
			.getText();
	}

	@Test
	void showsTheReplicasFollowsAFaultAndDrainsOnAClick() throws Exception {
		WebDriver browser = chromium();
		try {
			browser.get("http://127.0.0.1:" + managementPort + "/actuator/status");
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));
			wait.ignoring(StaleElementReferenceException.class).ignoring(NoSuchElementException.class);
			wait.until(b -> b.findElements(By.cssSelector(".pool[data-pool='svc'] .card")).size() == 3);
			String first = "127.0.0.1:" + Replicas.SVC.get(0).port();
			String second = "127.0.0.1:" + Replicas.SVC.get(1).port();
			wait.until(b -> "HEALTHY".equals(state(b, first)));

			// the availability model of the route to the pool: predicted from the replicas, measured from clients
			for (int i = 0; i < 20; i++) {
				assertThat(get("/svc/status-page-" + i).statusCode()).isEqualTo(200);
			}
			wait.until(b -> b.findElement(By.cssSelector(".pool[data-pool='svc'] .routes[data-route='svc']")).getText()
				.matches("(?s).*predicted \\d+\\.\\d+%.*measured \\d+\\.\\d+%.*"));
			// read within the wait: the page redraws its cards every second, so an element found just
			// before a redraw is stale by the time its text is read
			wait.until(b -> b.findElement(By.cssSelector(".pool[data-pool='svc'] .card[data-replica='" + first
					+ "'] .availability")).getText().startsWith("availability (10 s) "));

			// a fault on one replica turns its card red within seconds (the active checks run every 200 ms)
			Replicas.SVC.get(0).setMode(DemoReplica.Mode.UNHEALTHY);
			wait.until(b -> "DOWN".equals(state(b, first)));

			// the drain button, with the operator's credential typed in
			browser.findElement(By.id("password")).sendKeys(ADMIN_PASSWORD);
			wait.until(b -> {
				b.findElement(By.cssSelector(".pool[data-pool='svc'] .card[data-replica='" + second + "'] button[data-action='drain']"))
					.click();
				return true;
			});
			wait.until(b -> "DRAINED".equals(state(b, second)));
			assertThat(pools.pool("svc").replicas().get(1).state().name()).isEqualTo("DRAINED");
			wait.until(b -> b.findElement(By.id("events")).getText().contains("asked to drain"));

			Path shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE).toPath();
			Files.createDirectories(Path.of("target"));
			Files.copy(shot, Path.of("target/status-page.png"), StandardCopyOption.REPLACE_EXISTING);
		}
		finally {
			browser.quit();
		}
	}

}
