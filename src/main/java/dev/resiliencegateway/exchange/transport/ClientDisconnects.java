package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.resiliencegateway.support.Threads;

/**
 * Notices a client that closes its connection while the gateway is still waiting for a replica, so
 * the upstream attempt can be cancelled at once instead of running to its timeout (nginx does the
 * same unless told {@code proxy_ignore_client_abort}).
 *
 * <p>Written by hand because nothing below us offers it: with blocking Servlet I/O, Tomcat reports
 * a gone client only when the response is written, and in async mode it does not poll an HTTP/1.1
 * connection for reads either. So this class takes the request's socket channel from Tomcat
 * (reflection on three internal fields; when they are not there, for another container, HTTP/2 or
 * NIO2, the request is simply not watched) and registers it with a selector of its own. A channel
 * that turns readable with no byte available has reached end of stream or an error: the client is
 * gone. Readable with bytes (a pipelined request) ends the watch, since those bytes cannot be
 * looked past without taking them from Tomcat. A client that only half-closes its side after
 * sending counts as gone, as it does for nginx.
 *
 * <p>Only requests still waiting after {@link #DELAY_NANOS} are registered, by the watcher thread
 * itself, so the common fast request costs one queue insertion and no system call: the request
 * thread hands its watch over through a lock-free queue and marks it done when it ends; the watcher
 * alone keeps the list of watches and drops the done ones at its next tick (a shared concurrent set,
 * added to and removed from by every request, was 2 % of the gateway's CPU). A streamed request body
 * is watched only once it was read to its end (before that, readable means body).
 */
public final class ClientDisconnects implements AutoCloseable {

	private static final Log log = LogFactory.getLog(ClientDisconnects.class);

	/** How long a request waits before its connection is watched; also the watcher's tick. */
	static final long DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

	/** Watches handed over by request threads, not yet taken by the watcher. */
	private final Queue<Watch> incoming = new ConcurrentLinkedQueue<>();

	/** The watcher thread's own list of the watches it took; touched by no other thread. */
	private final List<Watch> waiting = new ArrayList<>();

	/** The watcher is, or is about to be, in a select without a timeout: a new watch must wake it. */
	private final AtomicBoolean sleeping = new AtomicBoolean();

	private final Selector selector;

	private final Thread thread;

	private volatile boolean running = true;

	private ClientDisconnects(Selector selector) {
		this.selector = selector;
		this.thread = Threads.daemon("client-disconnects").newThread(this::run);
		this.thread.start();
	}

	/** A watcher with its own thread, or one that watches nothing when the container is not Tomcat NIO. */
	public static ClientDisconnects start() {
		if (!TomcatChannels.AVAILABLE) {
			log.info("Client disconnects are noticed only when the response is written (not Tomcat's NIO connector)");
			return new ClientDisconnects(null);
		}
		try {
			return new ClientDisconnects(Selector.open());
		}
		catch (IOException e) {
			log.warn("Client disconnects are noticed only when the response is written: " + e);
			return new ClientDisconnects(null);
		}
	}

	/**
	 * Watches the client connection of {@code request} until the returned watch is closed; calls
	 * {@code onGone} (once, on the watcher thread) if the client goes away before that.
	 * @param bodyRead whether the request body has been read to its end (true without a body)
	 */
	public Watch watch(ServletRequest request, BooleanSupplier bodyRead, Runnable onGone) {
		SocketChannel channel = selector == null ? null : TomcatChannels.of(request);
		Watch w = new Watch(channel, System.nanoTime(), bodyRead, onGone);
		if (channel != null) {
			incoming.add(w);
			// the watcher sleeps without a timeout while nothing is watched; it says so before it looks
			// at the queue a last time, so either it sees this watch or this sees it asleep
			if (sleeping.get() && sleeping.compareAndSet(true, false)) {
				selector.wakeup();
			}
		}
		return w;
	}

	private void run() {
		while (running) {
			try {
				// every 50 ms while requests are watched; while none are, sleep until watch() wakes it
				// (an idle gateway's watcher used to wake 20 times a second for nothing)
				long timeout = TimeUnit.NANOSECONDS.toMillis(DELAY_NANOS);
				if (waiting.isEmpty()) {
					sleeping.set(true);
					if (incoming.isEmpty()) {
						timeout = 0;
					}
					else {
						sleeping.set(false);
					}
				}
				selector.select(timeout);
				sleeping.set(false);
				for (Watch w; (w = incoming.poll()) != null;) {
					waiting.add(w);
				}
				Set<SelectionKey> ready = selector.selectedKeys();
				for (SelectionKey key : ready) {
					Watch w = (Watch) key.attachment();
					key.cancel(); // gone, or bytes we cannot look past: either way the watch ends here
					if (!w.done && UnsolicitedBytes.available(w.channel.socket()) <= 0) {
						w.gone();
					}
				}
				ready.clear();
				long now = System.nanoTime();
				waiting.removeIf(w -> w.done || w.key == null && now - w.since >= DELAY_NANOS && w.bodyRead.getAsBoolean()
						&& !register(w));
			}
			catch (ClosedSelectorException e) {
				return;
			}
			catch (IOException | RuntimeException e) {
				log.warn("Watching client connections failed; continuing", e);
			}
		}
	}

	/** Registers the watch's channel; false when it is not to be watched any longer. */
	private boolean register(Watch w) {
		try {
			w.key = w.channel.register(selector, SelectionKey.OP_READ, w);
			if (w.done) {
				w.key.cancel(); // the exchange ended while we registered
			}
			return true;
		}
		catch (java.nio.channels.ClosedChannelException e) {
			w.gone();
			return false;
		}
		catch (java.nio.channels.IllegalBlockingModeException | java.nio.channels.CancelledKeyException e) {
			return false; // not ours to watch after all
		}
	}

	@Override
	public void close() {
		running = false;
		if (selector != null) {
			try {
				selector.close();
			}
			catch (IOException e) {
				// shutting down anyway
			}
		}
	}

	/** One request's watch; close it when the gateway starts writing the response (or gives up). */
	public static final class Watch implements AutoCloseable {

		final SocketChannel channel;

		final long since;

		final BooleanSupplier bodyRead;

		private final Runnable onGone;

		volatile boolean done;

		volatile SelectionKey key;

		Watch(SocketChannel channel, long since, BooleanSupplier bodyRead, Runnable onGone) {
			this.channel = channel;
			this.since = since;
			this.bodyRead = bodyRead;
			this.onGone = onGone;
		}

		private void gone() {
			synchronized (this) {
				if (done) {
					return;
				}
				done = true;
			}
			onGone.run();
		}

		@Override
		public void close() {
			synchronized (this) {
				done = true;
			}
			SelectionKey k = key;
			if (k != null) {
				k.cancel(); // deregistered at the watcher's next tick at the latest
			}
			// the watcher drops it from its list at its next tick
		}

	}

	/** The socket channel under a Tomcat HTTP/1.1 request on the NIO connector, found by reflection. */
	static final class TomcatChannels {

		static final boolean AVAILABLE;

		private static final Field FACADE_REQUEST;

		private static final Method COYOTE_REQUEST;

		private static final Field HOOK;

		private static final Field SOCKET_WRAPPER;

		private static final Method GET_SOCKET;

		private static final Method IO_CHANNEL;

		static {
			Field facadeRequest = null;
			Method coyoteRequest = null;
			Field hook = null;
			Field socketWrapper = null;
			Method getSocket = null;
			Method ioChannel = null;
			boolean ok;
			try {
				ClassLoader cl = ClientDisconnects.class.getClassLoader();
				facadeRequest = accessible(Class.forName("org.apache.catalina.connector.RequestFacade", false, cl)
					.getDeclaredField("request"));
				// public methods too are made accessible: otherwise every call re-checks access (a slow
				// path taken per request, 0.4 % of the gateway's CPU in a profile)
				coyoteRequest = accessible(Class.forName("org.apache.catalina.connector.Request", false, cl)
					.getMethod("getCoyoteRequest"));
				hook = accessible(Class.forName("org.apache.coyote.Request", false, cl).getDeclaredField("hook"));
				socketWrapper = accessible(Class.forName("org.apache.coyote.AbstractProcessor", false, cl)
					.getDeclaredField("socketWrapper"));
				getSocket = accessible(Class.forName("org.apache.tomcat.util.net.SocketWrapperBase", false, cl).getMethod("getSocket"));
				ioChannel = accessible(Class.forName("org.apache.tomcat.util.net.NioChannel", false, cl).getMethod("getIOChannel"));
				ok = true;
			}
			catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
				ok = false;
			}
			AVAILABLE = ok;
			FACADE_REQUEST = facadeRequest;
			COYOTE_REQUEST = coyoteRequest;
			HOOK = hook;
			SOCKET_WRAPPER = socketWrapper;
			GET_SOCKET = getSocket;
			IO_CHANNEL = ioChannel;
		}

		private TomcatChannels() {
		}

		private static <T extends java.lang.reflect.AccessibleObject> T accessible(T member) {
			member.setAccessible(true);
			return member;
		}

		/** The channel, or {@code null} when this is not an HTTP/1.1 request on Tomcat's NIO connector. */
		static SocketChannel of(ServletRequest request) {
			if (!AVAILABLE) {
				return null;
			}
			ServletRequest r = request;
			while (r instanceof ServletRequestWrapper w) {
				r = w.getRequest();
			}
			if (!FACADE_REQUEST.getDeclaringClass().isInstance(r)) {
				return null;
			}
			try {
				Object coyote = COYOTE_REQUEST.invoke(FACADE_REQUEST.get(r));
				Object processor = HOOK.get(coyote);
				if (processor == null
						|| !processor.getClass().getName().equals("org.apache.coyote.http11.Http11Processor")) {
					return null; // HTTP/2 streams share a socket: its end of stream is not this request's
				}
				Object socket = GET_SOCKET.invoke(SOCKET_WRAPPER.get(processor));
				if (socket == null || !IO_CHANNEL.getDeclaringClass().isInstance(socket)) {
					return null;
				}
				return (SocketChannel) IO_CHANNEL.invoke(socket);
			}
			catch (ReflectiveOperationException | RuntimeException e) {
				return null;
			}
		}

	}

}
