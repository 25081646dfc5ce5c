package dev.resiliencegateway.health;

/** What one active health check concluded, read from Spring Boot's health JSON {@code status}. */
public enum HealthVerdict {

	/** {@code UP} (or any 2xx without a status we know). */
	UP,
	/** {@code DOWN}, a non-2xx answer, a timeout or a refused connection. */
	DOWN,
	/** {@code OUT_OF_SERVICE}: drain, in-flight requests finish. */
	OUT_OF_SERVICE

}
