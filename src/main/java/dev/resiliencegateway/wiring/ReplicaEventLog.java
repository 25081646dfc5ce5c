package dev.resiliencegateway.wiring;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;

import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.health.ReplicaState;

/**
 * Where replica events go: logged once each, kept in a bounded ring for the admin endpoint and
 * status page, and published as Spring application events for anyone's {@code @EventListener}.
 */
public final class ReplicaEventLog implements Consumer<ReplicaEvent> {

	private static final Logger log = LoggerFactory.getLogger("dev.resiliencegateway.replicas");

	private final int capacity;

	private final ArrayDeque<ReplicaEvent> ring;

	private volatile ApplicationEventPublisher publisher;

	public ReplicaEventLog(int capacity) {
		this.capacity = capacity;
		this.ring = new ArrayDeque<>(capacity);
	}

	void setPublisher(ApplicationEventPublisher publisher) {
		this.publisher = publisher;
	}

	@Override
	public void accept(ReplicaEvent event) {
		if (event instanceof ReplicaEvent.Transition t && (t.to() == ReplicaState.EJECTED || t.to() == ReplicaState.DOWN)) {
			log.warn("{}", event);
		}
		else {
			log.info("{}", event);
		}
		synchronized (ring) {
			if (ring.size() == capacity) {
				ring.removeFirst();
			}
			ring.addLast(event);
		}
		ApplicationEventPublisher p = publisher;
		if (p != null) {
			p.publishEvent(event);
		}
	}

	/** The most recent events, oldest first. */
	public List<ReplicaEvent> recent() {
		synchronized (ring) {
			return new ArrayList<>(ring);
		}
	}

}
