package dev.resiliencegateway.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import dev.resiliencegateway.TestConsole;

/**
 * Debian's real {@code redis-server} on a free loopback port, with no persistence, for the tests
 * (there is no Docker engine here). Missing outside CI: the test is skipped loudly; in CI (.ci/run
 * installs it) a missing server fails the test.
 */
public final class RedisServer implements AutoCloseable {

	private final int port;

	private Process process;

	private RedisServer(int port) {
		this.port = port;
	}

	public static RedisServer start() throws Exception {
		Path binary = Path.of("/usr/bin/redis-server");
		if (!Files.isExecutable(binary)) {
			assertThat(System.getenv("CI")).as("redis-server must be installed in CI (.ci/run installs it)").isNull();
			TestConsole.warn("SKIPPED LOUDLY: redis-server is not installed (apt-get install redis-server)");
			Assumptions.abort("redis-server is not installed");
		}
		int port;
		try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			port = s.getLocalPort();
		}
		RedisServer server = new RedisServer(port);
		server.run();
		return server;
	}

	public int port() {
		return port;
	}

	/** Starts (or restarts, after {@link #stop}) the server on the same port; returns once it answers PING. */
	public void run() throws Exception {
		process = new ProcessBuilder("/usr/bin/redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes")
			.redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.DISCARD)
			.start();
		for (int i = 0; i < 200; i++) {
			if (pong()) {
				return;
			}
			Thread.sleep(25);
		}
		throw new IllegalStateException("redis-server did not answer PING on port " + port);
	}

	/** Kills the server (as a crash would); {@link #run} brings it back, empty. */
	public void stop() throws InterruptedException {
		process.destroyForcibly();
		process.waitFor(10, TimeUnit.SECONDS);
	}

	private boolean pong() {
		try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
			s.setSoTimeout(500);
			OutputStream out = s.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = s.getInputStream();
			byte[] reply = in.readNBytes(7);
			return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
		}
		catch (IOException e) {
			return false;
		}
	}

	@Override
	public void close() throws InterruptedException {
		if (process != null) {
			stop();
		}
	}

}
