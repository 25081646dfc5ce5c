package dev.resiliencegateway.clock;

/** Monotonic time in nanoseconds. Injected everywhere time matters so decisions run on a fake clock in tests. */
@FunctionalInterface
public interface Ticker {

	Ticker SYSTEM = System::nanoTime;

	long nanos();

}
