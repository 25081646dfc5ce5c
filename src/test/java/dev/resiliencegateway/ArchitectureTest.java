package dev.resiliencegateway;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/** The import rules of docs/architecture.md ("What may import what"), checked on the compiled classes. */
class ArchitectureTest {

	private static final JavaClasses PRODUCT = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("dev.resiliencegateway");

	private static final String[] CORE = { "dev.resiliencegateway.outcome..", "dev.resiliencegateway.balancing..",
			"dev.resiliencegateway.health..", "dev.resiliencegateway.retry..", "dev.resiliencegateway.clock..",
			"dev.resiliencegateway.pool.." };

	@Test
	void theDecisionCoreImportsNoFrameworkServletOrHttpClient() {
		noClasses().that().resideInAnyPackage(CORE)
			.should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "jakarta.servlet..",
					"org.apache.hc..", "org.apache.catalina..", "org.apache.tomcat..", "io.micrometer..", "java.net.http..")
			.check(PRODUCT);
	}

	@Test
	void theDecisionCoreKnowsNothingOfTheGlue() {
		noClasses().that().resideInAnyPackage(CORE)
			.should().dependOnClassesThat().resideInAnyPackage("dev.resiliencegateway.config..",
					"dev.resiliencegateway.exchange..", "dev.resiliencegateway.edge..", "dev.resiliencegateway.wiring..",
					"dev.resiliencegateway.admin..", "dev.resiliencegateway.checks..", "dev.resiliencegateway.demo..")
			.check(PRODUCT);
	}

	@Test
	void retryNoLongerDependsOnHealth() {
		noClasses().that().resideInAPackage("dev.resiliencegateway.retry..")
			.should().dependOnClassesThat().resideInAPackage("dev.resiliencegateway.health..")
			.check(PRODUCT);
	}

	@Test
	void transportHelpersDoNotReachBackIntoTheExchange() {
		noClasses().that().resideInAPackage("dev.resiliencegateway.exchange.transport..")
			.should().dependOnClassesThat().resideInAPackage("dev.resiliencegateway.exchange")
			.check(PRODUCT);
	}

	@Test
	void onlyTheWiringKnowsTheWiring() {
		noClasses().that().resideOutsideOfPackages("dev.resiliencegateway.wiring..", "dev.resiliencegateway")
			.should().dependOnClassesThat().resideInAPackage("dev.resiliencegateway.wiring..")
			.check(PRODUCT);
	}

	@Test
	void theDemoReplicaStandsAlone() {
		noClasses().that().resideInAPackage("dev.resiliencegateway.demo..")
			.should().dependOnClassesThat().resideInAnyPackage("dev.resiliencegateway.exchange..",
					"dev.resiliencegateway.health..", "dev.resiliencegateway.wiring..", "dev.resiliencegateway.edge..")
			.check(PRODUCT);
	}

	@Test
	void packagesHaveNoCycles() {
		slices().matching("dev.resiliencegateway.(*)..").should().beFreeOfCycles().check(PRODUCT);
	}

}
