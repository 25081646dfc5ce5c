package dev.resiliencegateway.health;

import java.util.EnumMap;
import java.util.Map;

import dev.resiliencegateway.outcome.Outcome;

/** The throwable Resilience4j's {@code onError} wants, one shared instance per outcome (no stack trace). */
final class OutcomeFailure extends RuntimeException {

	private static final Map<Outcome, OutcomeFailure> BY_OUTCOME = new EnumMap<>(Outcome.class);

	static {
		for (Outcome o : Outcome.values()) {
			BY_OUTCOME.put(o, new OutcomeFailure(o));
		}
	}

	private OutcomeFailure(Outcome outcome) {
		super(outcome.name(), null, false, false);
	}

	static OutcomeFailure of(Outcome outcome) {
		return BY_OUTCOME.get(outcome);
	}

}
