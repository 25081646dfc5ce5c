package dev.resiliencegateway.config;

import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker/jvm.options is what the Docker image, the Kubernetes Deployment and the benchmark start the
 * gateway with. The JVM only prints a warning for a {@code -XX:CompileCommand} it cannot parse and
 * starts anyway, and a pattern that names no class does nothing at all, so both are checked here:
 * every option is accepted by the JVM running the tests, and every class pattern of the start-up
 * code kept from C2 still names classes on the gateway's class path (a library that moved its
 * classes would otherwise quietly bring the slower start back).
 */
class JvmOptionsTest {

	private static final Path OPTIONS = Path.of("docker/jvm.options");

	@Test
	void theJvmAcceptsEveryOptionWithoutAWord() throws Exception {
		String java = ProcessHandle.current().info().command().orElseThrow();
		Process process = new ProcessBuilder(java, "@" + OPTIONS, "-version").redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		// -version prints three lines and nothing else: no "CompileCommand: An error occurred", no warning
		assertThat(output.lines().filter(line -> !line.isBlank()).toList()).as(output).hasSize(3);
		assertThat(output).doesNotContainIgnoringCase("error").doesNotContainIgnoringCase("warning");
	}

	@Test
	void everyStartupPatternNamesClassesThatExist() throws IOException {
		List<String> patterns = startupPatterns();
		assertThat(patterns).hasSizeGreaterThan(10);
		for (String pattern : patterns) {
			assertThat(exists(pattern)).as("no class matches %s in docker/jvm.options", pattern).isTrue();
		}
	}

	@Test
	void theRequestPathIsNotKeptFromC2() throws IOException {
		for (String pattern : startupPatterns()) {
			String name = pattern.substring(0, pattern.lastIndexOf('.')).replace('/', '.');
			assertThat(name).doesNotStartWith("dev.resiliencegateway")
				.doesNotStartWith("org.apache")
				.doesNotStartWith("io.micrometer")
				.doesNotStartWith("org.springframework.web")
				.doesNotStartWith("org.springframework.http")
				.isNotEqualTo("java.*")
				.isNotEqualTo("java.lang.invoke.*");
		}
	}

	/** The class part of each {@code -XX:CompileCommand=MaxNodeLimit,<class>.<method>,1} line. */
	private static List<String> startupPatterns() throws IOException {
		List<String> patterns = new ArrayList<>();
		for (String line : Files.readAllLines(OPTIONS)) {
			if (line.startsWith("-XX:CompileCommand=MaxNodeLimit,")) {
				String[] parts = line.split(",");
				assertThat(parts).as(line).hasSize(3);
				assertThat(parts[2]).as(line).isEqualTo("1");
				assertThat(parts[1]).as(line).endsWith(".*");
				patterns.add(parts[1]);
			}
		}
		return patterns;
	}

	/** Whether a HotSpot class pattern ({@code a/b/*} a prefix, else one class) names a class that exists. */
	private static boolean exists(String pattern) throws IOException {
		String classPart = pattern.substring(0, pattern.lastIndexOf('.'));
		if (!classPart.endsWith("*")) {
			return loads(classPart.replace('/', '.'));
		}
		String prefix = classPart.substring(0, classPart.length() - 1);
		if (prefix.endsWith("/")) {
			String packageName = prefix.substring(0, prefix.length() - 1).replace('/', '.');
			boolean inTheJdk = ModuleLayer.boot()
				.modules()
				.stream()
				.flatMap(module -> module.getPackages().stream())
				.anyMatch(p -> p.equals(packageName) || p.startsWith(packageName + "."));
			List<URL> inJars = Collections.list(JvmOptionsTest.class.getClassLoader().getResources(prefix));
			return inTheJdk || !inJars.isEmpty();
		}
		// a class-name prefix such as java/lang/invoke/ClassSpecializer*: the class itself exists
		return loads(prefix.replace('/', '.'));
	}

	private static boolean loads(String className) {
		try {
			Class.forName(className, false, JvmOptionsTest.class.getClassLoader());
			return true;
		}
		catch (ClassNotFoundException ex) {
			return false;
		}
	}

}
