package dev.resiliencegateway.exchange.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The at-most-once pool's stale check on real loopback sockets: what the replica did decides. */
class PeekedConnectionsTest {

	private ServerSocket server;

	private Socket client;

	private Socket replica;

	@BeforeEach
	void connect() throws IOException {
		server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
		client = SocketChannel.open().socket();
		client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2000);
		replica = server.accept();
	}

	@AfterEach
	void close() throws IOException {
		client.close();
		replica.close();
		server.close();
	}

	@Test
	void anOpenQuietConnectionIsUsableAndStaysInBlockingMode() throws IOException {
		assertThat(PeekedConnections.closedOrDirty(client)).isFalse();
		assertThat(client.getChannel().isBlocking()).isTrue();
		// still an ordinary blocking socket: a request and its answer go through
		client.getOutputStream().write('x');
		assertThat(replica.getInputStream().read()).isEqualTo('x');
		replica.getOutputStream().write('y');
		client.setSoTimeout(2000);
		assertThat(client.getInputStream().read()).isEqualTo('y');
	}

	@Test
	void aConnectionTheReplicaClosedIsStale() throws Exception {
		replica.close();
		waitForTheClose();
		assertThat(PeekedConnections.closedOrDirty(client)).isTrue();
	}

	@Test
	void aConnectionTheReplicaResetIsStale() throws Exception {
		replica.setSoLinger(true, 0);
		replica.close();
		waitForTheClose();
		assertThat(PeekedConnections.closedOrDirty(client)).isTrue();
	}

	@Test
	void bytesNobodyAskedForMakeTheConnectionUnusable() throws Exception {
		replica.getOutputStream().write("HTTP/1.1 408 Request Timeout\r\n\r\n".getBytes());
		waitForTheClose();
		assertThat(PeekedConnections.closedOrDirty(client)).isTrue();
	}

	@Test
	void aSocketThatIsNotAChannelIsLeftToHttpClientsCheck() throws IOException {
		try (Socket plain = new Socket()) {
			plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 2000);
			assertThat(PeekedConnections.closedOrDirty(plain)).isNull();
		}
		assertThat(PeekedConnections.closedOrDirty(null)).isNull();
	}

	/** Loopback delivers at once, but give the kernel a moment, boundedly. */
	private static void waitForTheClose() throws InterruptedException {
		Thread.sleep(50);
	}

}
