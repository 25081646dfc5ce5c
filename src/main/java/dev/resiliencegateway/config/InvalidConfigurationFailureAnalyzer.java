package dev.resiliencegateway.config;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a bad gateway setting into Boot's "APPLICATION FAILED TO START" report, without a stack trace. */
class InvalidConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigurationException cause) {
		return new FailureAnalysis("Invalid gateway configuration: " + cause.getMessage(),
				"Set " + cause.key() + " to " + cause.expected() + " in your application.yml (or remove it to use the default).",
				cause);
	}

}
