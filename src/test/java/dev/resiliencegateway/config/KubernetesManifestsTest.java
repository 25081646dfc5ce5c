package dev.resiliencegateway.config;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * deploy/kubernetes is shipped for users, but no cluster runs here: every manifest is checked offline
 * against the Kubernetes API's own schema, as generated into the official Java client's models
 * (io.kubernetes:client-java-api, from the API's OpenAPI document: unknown fields, missing required
 * fields and wrong types are errors), then for what the gateway needs of it.
 */
class KubernetesManifestsTest {

	private static final Path BASE = Path.of("deploy/kubernetes/base");

	/** The schema of each kind the base uses, as the client's model class for its apiVersion. */
	private static final Map<String, String> MODELS = Map.of(
			"v1/ServiceAccount", "io.kubernetes.client.openapi.models.V1ServiceAccount",
			"rbac.authorization.k8s.io/v1/Role", "io.kubernetes.client.openapi.models.V1Role",
			"rbac.authorization.k8s.io/v1/RoleBinding", "io.kubernetes.client.openapi.models.V1RoleBinding",
			"v1/ConfigMap", "io.kubernetes.client.openapi.models.V1ConfigMap",
			"apps/v1/Deployment", "io.kubernetes.client.openapi.models.V1Deployment",
			"v1/Service", "io.kubernetes.client.openapi.models.V1Service",
			"networking.k8s.io/v1/NetworkPolicy", "io.kubernetes.client.openapi.models.V1NetworkPolicy",
			"policy/v1/PodDisruptionBudget", "io.kubernetes.client.openapi.models.V1PodDisruptionBudget",
			"autoscaling/v2/HorizontalPodAutoscaler", "io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler");

	@Test
	void everyManifestIsValidAgainstTheKubernetesSchema() throws Exception {
		List<Map<String, Object>> docs = documents();
		Set<String> kinds = new TreeSet<>();
		for (Map<String, Object> doc : docs) {
			kinds.add(doc.get("kind") + "");
			validate(doc);
		}
		assertThat(kinds).containsExactlyInAnyOrder("ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment",
				"Service", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler");
	}

	@Test
	void theValidatorRejectsWhatAClusterWouldReject() {
		// the check has teeth: a misspelt field, a missing required one and a wrong type all fail
		assertThatThrownBy(() -> validate(yaml("""
				apiVersion: apps/v1
				kind: Deployment
				metadata: {name: x}
				spec:
				  replicas: 2
				  selector: {matchLabels: {a: b}}
				  template:
				    metadata: {labels: {a: b}}
				    spec:
				      containers:
				        - name: gateway
				          image: x
				          readinessProbe: {httpGet: {path: /, port: 8081}, periodSecond: 2}
				"""))).hasMessageContaining("periodSecond");
		assertThatThrownBy(() -> validate(yaml("""
				apiVersion: v1
				kind: Service
				metadata: {name: x}
				spec:
				  ports:
				    - name: http
				"""))).hasMessageContaining("port");
		assertThatThrownBy(() -> validate(yaml("""
				apiVersion: policy/v1
				kind: PodDisruptionBudget
				metadata: {name: x}
				spec: {selector: [1, 2]}
				"""))).isInstanceOf(RuntimeException.class);
	}

	@Test
	@SuppressWarnings("unchecked")
	void theKustomizationListsEveryManifestAndTheDeploymentIsWhatTheGatewayNeeds() throws Exception {
		Map<String, Object> kustomization = yaml(Files.readString(BASE.resolve("kustomization.yaml")));
		Set<String> listed = new TreeSet<>((List<String>) kustomization.get("resources"));
		Set<String> present = new TreeSet<>();
		try (Stream<Path> files = Files.list(BASE)) {
			files.map(p -> p.getFileName().toString())
				.filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
				.forEach(present::add);
		}
		assertThat(listed).isEqualTo(present);

		Map<String, Object> deployment = byKind("Deployment");
		Map<String, Object> spec = (Map<String, Object>) deployment.get("spec");
		assertThat((Integer) spec.get("replicas")).isGreaterThanOrEqualTo(2);
		Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) spec.get("template")).get("spec");
		Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
		// the probes go to the management port's probe groups, which the kubernetes profile opens to the pod IP
		assertThat(String.valueOf(container.get("livenessProbe"))).contains("path=/actuator/health/liveness", "port=management");
		assertThat(String.valueOf(container.get("readinessProbe"))).contains("path=/actuator/health/readiness", "port=management");
		assertThat(String.valueOf(container.get("ports"))).contains("containerPort=8081").contains("containerPort=8080");
		assertThat(String.valueOf(container.get("env"))).contains("SPRING_PROFILES_ACTIVE, value=kubernetes")
			.contains("value=optional:file:/config/");
		// a pause before SIGTERM, inside a grace period long enough for it and the drain
		assertThat(String.valueOf(container.get("lifecycle"))).contains("preStop").contains("sleep");
		Map<String, Object> app = yaml(Files.readString(Path.of("src/main/resources/application.yml")));
		String phase = String.valueOf(((Map<String, Object>) ((Map<String, Object>) app.get("spring")).get("lifecycle"))
			.get("timeout-per-shutdown-phase"));
		assertThat((Integer) pod.get("terminationGracePeriodSeconds"))
			.isGreaterThan(5 + Integer.parseInt(phase.replace("s", "")));
		// non-root, read-only root file system, nothing to escalate
		Map<String, Object> security = (Map<String, Object>) container.get("securityContext");
		assertThat(security).containsEntry("readOnlyRootFilesystem", true).containsEntry("allowPrivilegeEscalation", false);
		assertThat((Map<String, Object>) pod.get("securityContext")).containsEntry("runAsNonRoot", true);
		assertThat(String.valueOf(container.get("resources"))).contains("requests").contains("limits");

		// the management port is reachable from the namespace only; the Service carries traffic only
		String policy = String.valueOf(byKind("NetworkPolicy").get("spec"));
		assertThat(policy).contains("from=[{podSelector={}}], ports=[{protocol=TCP, port=8081}]");
		assertThat(String.valueOf(byKind("Service").get("spec"))).doesNotContain("8081").doesNotContain("management");

		// the profile the Deployment names exists and binds management to every interface
		Map<String, Object> profile = yaml(Files.readString(Path.of("src/main/resources/application-kubernetes.yml")));
		assertThat(String.valueOf(profile.get("management"))).contains("address=0.0.0.0");
	}

	@Test
	@SuppressWarnings("unchecked")
	void theConfigMapStartsTheGatewayInTheKubernetesProfileWithItsProbesUp(@org.junit.jupiter.api.io.TempDir Path dir)
			throws Exception {
		// the ConfigMap's application.yml, mounted as the Deployment mounts it, read as the Deployment says
		Map<String, Object> data = (Map<String, Object>) byKind("ConfigMap").get("data");
		Files.writeString(dir.resolve("application.yml"), (String) data.get("application.yml"));
		// and a cluster: an API server (fabric8's mock) where Service "orders" has three ready pods
		io.fabric8.kubernetes.client.server.mock.KubernetesMockServer api = new io.fabric8.kubernetes.client.server.mock.KubernetesMockServer(
				new io.fabric8.mockwebserver.Context(), new io.fabric8.mockwebserver.MockWebServer(), new java.util.HashMap<>(),
				new io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher(), false);
		api.init(java.net.InetAddress.getByName("127.0.0.1"), 0);
		try (io.fabric8.kubernetes.client.NamespacedKubernetesClient kubectl = api.createClient();
				org.springframework.context.ConfigurableApplicationContext context = startFromConfigMap(dir, kubectl)) {
			assertThat(context.getEnvironment().getProperty("management.server.address")).isEqualTo("0.0.0.0");
			assertThat(context.getBean(dev.resiliencegateway.wiring.PoolRegistry.class).pool("orders").replicas())
				.as("the pool is the Service's ready pods").hasSize(3);
			// every key of the example is one the gateway reads (a misspelt key would be ignored silently)
			assertThat(context.getBean(GatewayConfig.class).pools().get("orders").healthCheck().interval()).isEqualTo(java.time.Duration.ofSeconds(2));
			assertThat(context.getBean(GatewayConfig.class).routes().get("orders").hedge()).isTrue();
			int management = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
			java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
			for (String probe : List.of("liveness", "readiness")) {
				java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest
					.newBuilder(java.net.URI.create("http://127.0.0.1:" + management + "/actuator/health/" + probe))
					.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
				assertThat(r.statusCode()).as(probe).isEqualTo(200);
				assertThat(r.body()).as(probe).contains("\"status\":\"UP\"");
			}
		}
		finally {
			api.destroy();
		}
	}

	private static org.springframework.context.ConfigurableApplicationContext startFromConfigMap(Path dir,
			io.fabric8.kubernetes.client.NamespacedKubernetesClient kubectl) {
		kubectl.services().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.ServiceBuilder()
			.withNewMetadata().withName("orders").withNamespace("shop").endMetadata()
			.withNewSpec().addNewPort().withName("http").withPort(8080).endPort().endSpec()
			.build()).create();
		kubectl.endpoints().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.EndpointsBuilder()
			.withNewMetadata().withName("orders").withNamespace("shop").endMetadata()
			.addNewSubset()
			.addNewAddress().withIp("127.0.0.2").endAddress()
			.addNewAddress().withIp("127.0.0.3").endAddress()
			.addNewAddress().withIp("127.0.0.4").endAddress()
			.addNewPort().withName("http").withPort(8080).endPort()
			.endSubset()
			.build()).create();
		return org.springframework.boot.SpringApplication.run(dev.resiliencegateway.GatewayApplication.class,
				"--spring.profiles.active=kubernetes", "--spring.config.additional-location=optional:file:" + dir + "/",
				"--server.port=0", "--management.server.port=0", "--spring.main.banner-mode=off",
				// what Spring Boot detects in a pod, and the API server a pod would find by itself
				"--spring.main.cloud-platform=kubernetes",
				"--spring.cloud.kubernetes.client.master-url=" + kubectl.getConfiguration().getMasterUrl(),
				"--spring.cloud.kubernetes.client.namespace=shop",
				// the pods are loopback addresses where nothing listens: no checks sent there from a test
				"--resilience.gateway.pools.orders.health-check.enabled=false");
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> byKind(String kind) throws IOException {
		return documents().stream().filter(d -> kind.equals(d.get("kind"))).findFirst().orElseThrow();
	}

	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> documents() throws IOException {
		List<Map<String, Object>> out = new ArrayList<>();
		try (Stream<Path> files = Files.list(BASE)) {
			for (Path file : files.sorted().toList()) {
				if (file.getFileName().toString().equals("kustomization.yaml")) {
					continue;
				}
				for (Object doc : new Yaml().loadAll(Files.readString(file))) {
					if (doc != null) {
						out.add((Map<String, Object>) doc);
					}
				}
			}
		}
		return out;
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> yaml(String text) {
		return (Map<String, Object>) new Yaml().load(text);
	}

	/** Checks one manifest against its kind's schema; throws naming the first problem. */
	private static void validate(Map<String, Object> doc) throws Exception {
		String key = doc.get("apiVersion") + "/" + doc.get("kind");
		String model = MODELS.get(key);
		assertThat(model).as("a kind this test knows: %s", key).isNotNull();
		JsonObject json = new Gson().toJsonTree(doc).getAsJsonObject();
		Class<?> type = Class.forName(model);
		Method check = type.getMethod("validateJsonElement", JsonElement.class);
		try {
			check.invoke(null, json);
		}
		catch (InvocationTargetException e) {
			throw new IllegalStateException(key + " " + ((Map<String, Object>) doc.get("metadata")).get("name") + ": "
					+ e.getCause().getMessage(), e.getCause());
		}
	}

}
