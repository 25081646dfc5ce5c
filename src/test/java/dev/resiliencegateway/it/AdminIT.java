package dev.resiliencegateway.it;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin endpoint over real HTTP: reads open on the loopback management port, writes only for the operator. */
class AdminIT extends GatewayIT {

	private HttpResponse<String> write(String path, String json, String authorization) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(json));
		if (authorization != null) {
			b.header("Authorization", authorization);
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	private String replicaPath(int i) {
		return "/actuator/replicas/svc/127.0.0.1:" + Replicas.SVC.get(i).port();
	}

	@Test
	void writesAreRefusedWithoutCredentialsAndWithWrongOnes() throws Exception {
		HttpResponse<String> none = write(replicaPath(0), "{\"action\":\"drain\"}", null);
		assertThat(none.statusCode()).isEqualTo(401);
		assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
		assertThat(write(replicaPath(0), "{\"action\":\"drain\"}", basic("admin", "wrong")).statusCode()).isEqualTo(401);
		assertThat(write(replicaPath(0), "{\"action\":\"drain\"}", basic("root", ADMIN_PASSWORD)).statusCode()).isEqualTo(401);
		assertThat(write("/actuator/replicas/svc", "{\"detectOnly\":true}", null).statusCode()).isEqualTo(401);
		assertThat(pools.pool("svc").replicas().get(0).state().name()).isEqualTo("HEALTHY");
		assertThat(pools.pool("svc").policy().detectOnly()).isFalse();
	}

	@Test
	void drainThenRestoreChangesWhereTrafficGoes() throws Exception {
		DemoReplica drained = Replicas.SVC.get(1);
		HttpResponse<String> r = write(replicaPath(1), "{\"action\":\"drain\"}", basic("admin", ADMIN_PASSWORD));
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.body()).contains("\"state\":\"DRAINED\"");
		drained.resetStats();
		for (int i = 0; i < 60; i++) {
			assertThat(get("/svc/x").statusCode()).isEqualTo(200);
		}
		assertThat(drained.served()).isZero();

		assertThat(write(replicaPath(1), "{\"action\":\"restore\"}", basic("admin", ADMIN_PASSWORD)).statusCode()).isEqualTo(200);
		Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			for (int i = 0; i < 30; i++) {
				get("/svc/x");
			}
			assertThat(drained.served()).isPositive();
		});
		HttpResponse<String> events = management("/actuator/replicas");
		assertThat(events.body()).contains("Operator admin asked to drain replica 127.0.0.1:" + drained.port())
			.contains("\"to\":\"DRAINED\"");
	}

	@Test
	void ejectTakesAReplicaOutForItsSecondsNotCountedAgainstTheCap() throws Exception {
		DemoReplica ejected = Replicas.SVC.get(2);
		HttpResponse<String> r = write(replicaPath(2), "{\"action\":\"eject\",\"seconds\":60}", basic("admin", ADMIN_PASSWORD));
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.body()).contains("\"state\":\"EJECTED\"");
		try {
			assertThat(pools.pool("svc").replicas().get(2).status().reason()).contains("ejected by admin for 60000 ms");
			ejected.resetStats();
			for (int i = 0; i < 60; i++) {
				assertThat(get("/svc/x").statusCode()).isEqualTo(200);
			}
			assertThat(ejected.served()).as("GETs may probe an ejected replica only once a second; an operator's ejection "
					+ "is not probed before its time").isZero();
			assertThat(write(replicaPath(2), "{\"action\":\"eject\",\"seconds\":-5}", basic("admin", ADMIN_PASSWORD))
				.statusCode()).isEqualTo(400);
		}
		finally {
			assertThat(write(replicaPath(2), "{\"action\":\"restore\"}", basic("admin", ADMIN_PASSWORD)).statusCode())
				.isEqualTo(200);
		}
		assertThat(management("/actuator/replicas").body()).contains("Operator admin asked to eject 60s replica 127.0.0.1:"
				+ ejected.port());
	}

	@Test
	void badActionsGet400AndUnknownReplicas404() throws Exception {
		assertThat(write(replicaPath(0), "{\"action\":\"explode\"}", basic("admin", ADMIN_PASSWORD)).statusCode()).isEqualTo(400);
		assertThat(write("/actuator/replicas/svc/10.9.9.9:1", "{\"action\":\"drain\"}", basic("admin", ADMIN_PASSWORD))
			.statusCode()).isEqualTo(404);
	}

	@Test
	void detectOnlyCanBeSwitchedAtRunTime() throws Exception {
		try {
			assertThat(write("/actuator/replicas/svc", "{\"detectOnly\":true}", basic("admin", ADMIN_PASSWORD)).statusCode())
				.isEqualTo(200);
			assertThat(pools.pool("svc").policy().detectOnly()).isTrue();
		}
		finally {
			write("/actuator/replicas/svc", "{\"detectOnly\":false}", basic("admin", ADMIN_PASSWORD));
		}
		assertThat(pools.pool("svc").policy().detectOnly()).isFalse();
	}

	@Test
	void healthDetailsOnlyForTheOperator() throws Exception {
		HttpResponse<String> anonymous = http.send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/pools/svc")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(anonymous.body()).contains("\"status\":\"UP\"").doesNotContain("replicas");
		assertThat(management("/actuator/health/pools/svc").body()).contains("\"replicas\"").contains("weightShare");
	}

}
