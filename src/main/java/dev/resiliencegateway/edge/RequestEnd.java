package dev.resiliencegateway.edge;

/**
 * Told once a request's dispatch has returned, whatever happened in it. The request attribute
 * {@link AccessLog#EXCHANGE} may hold one; {@link EdgeFilter} tells it. The exchange uses it to end an
 * attempt whose answer was never written (a route's response filter that failed): without it, the
 * attempt's pooled connection and the replica's in-flight count would stay taken.
 */
public interface RequestEnd {

	void requestEnded();

}
