package dev.resiliencegateway.edge;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.NioEndpoint;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * Tomcat's HTTP/1.1 NIO connector with the traffic port's cap enforced where the bytes arrive: on the
 * poller thread, before a connection is handed to the request executor. It counts the connections
 * handed over and not yet given back (each one a request being read or served: a request on a virtual
 * thread holds its connection for the whole exchange); at or beyond {@link EarlyRefusal}'s limit, a
 * new request on a connection between requests is answered 503 by {@link EarlyRefusal} right there
 * (the connection kept for the client's next request where HTTP/1.1 allows), without queueing behind
 * the requests the gateway took. Everything else
 * is Tomcat's {@link Http11NioProtocol} unchanged, and {@link LoadShedding} still enforces the same
 * cap on the requests that go the normal way.
 *
 * <p>Counting needs the executor that Spring Boot gives the connector for virtual threads
 * ({@code spring.threads.virtual.enabled}, the shipped setting); with Tomcat's own pool of platform
 * threads nothing is counted, so only {@link LoadShedding} refuses (the pool's size bounds that queue).
 */
public class SheddingNioProtocol extends Http11NioProtocol {

	public SheddingNioProtocol() {
		super(new Endpoint());
	}

	/** Turns the poller's refusal on (null: off). */
	public void refuseEarly(EarlyRefusal refusal) {
		((Endpoint) getEndpoint()).refusal = refusal;
	}

	/** Connections handed to the request executor and not yet given back. */
	public int busy() {
		return ((Endpoint) getEndpoint()).busy.get();
	}

	static final class Endpoint extends NioEndpoint {

		/** The poller's read buffer: one poller thread, so one buffer, reused. */
		private static final ThreadLocal<ByteBuffer> BUFFER = new ThreadLocal<>();

		final AtomicInteger busy = new AtomicInteger();

		volatile EarlyRefusal refusal;

		@Override
		public void setExecutor(Executor executor) {
			super.setExecutor(executor == null ? null : new Counting(executor, busy));
		}

		@Override
		public boolean processSocket(SocketWrapperBase<NioChannel> wrapper, SocketEvent event, boolean dispatch) {
			EarlyRefusal early = refusal;
			if (early != null && dispatch && event == SocketEvent.OPEN_READ && wrapper != null
					&& busy.get() >= early.limit() && wrapper.getCurrentProcessor() == null && !isSSLEnabled()) {
				try {
					Boolean kept = refused(wrapper, early);
					if (kept != null) {
						if (kept) {
							wrapper.registerReadInterest(); // the client's next request comes on it
						}
						else {
							wrapper.close();
						}
						return true;
					}
				}
				catch (IOException e) {
					return false; // the client closed or the read failed: the poller closes the connection
				}
			}
			return super.processSocket(wrapper, event, dispatch);
		}

		/**
		 * Reads what has arrived without waiting (into a buffer the size of the connection's own read
		 * buffer, so what is put back fits) and answers it, or puts it back for Tomcat's processor.
		 * Null when put back; else whether the connection stays open.
		 */
		private static Boolean refused(SocketWrapperBase<NioChannel> wrapper, EarlyRefusal early) throws IOException {
			int capacity = wrapper.getSocketBufferHandler().getReadBuffer().capacity();
			ByteBuffer buffer = BUFFER.get();
			if (buffer == null || buffer.capacity() != capacity) {
				buffer = ByteBuffer.allocate(capacity);
				BUFFER.set(buffer);
			}
			buffer.clear();
			int read = wrapper.read(false, buffer);
			buffer.flip();
			if (read <= 0) {
				return null;
			}
			EarlyRefusal.Answer answer = early.answer(buffer.array(), 0, buffer.limit());
			if (answer == null) {
				wrapper.unRead(buffer);
				return null;
			}
			// one write without waiting: a socket between requests has room for a few hundred bytes
			// unless its client stopped reading earlier answers; such a client is closed on
			ByteBuffer bytes = ByteBuffer.wrap(answer.bytes());
			wrapper.getSocket().write(bytes);
			return answer.keepAlive() && !bytes.hasRemaining();
		}

	}

	/** The request executor, counting the tasks it holds. */
	private record Counting(Executor delegate, AtomicInteger busy) implements Executor {

		@Override
		public void execute(Runnable task) {
			busy.incrementAndGet();
			try {
				delegate.execute(() -> {
					try {
						task.run();
					}
					finally {
						busy.decrementAndGet();
					}
				});
			}
			catch (RuntimeException | Error e) {
				busy.decrementAndGet();
				throw e;
			}
		}

	}

}
