package dev.resiliencegateway.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A raw-socket HTTP/1.1 client, because the JDK client refuses to send Connection, Upgrade and
 * friends: exactly the headers a gateway must not forward.
 */
final class RawHttp {

	private RawHttp() {
	}

	/** Sends the request bytes as written, reads one response (headers and a Content-Length body). */
	static String exchange(int port, String request) throws IOException {
		try (Socket socket = new Socket("127.0.0.1", port)) {
			socket.setSoTimeout(10_000);
			socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
			socket.getOutputStream().flush();
			return readResponse(socket.getInputStream());
		}
	}

	/** Reads one response (headers and a Content-Length body) from a connection that may stay open. */
	static String readResponse(InputStream in) throws IOException {
		ByteArrayOutputStream head = new ByteArrayOutputStream();
		while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
			int b = in.read();
			if (b < 0) {
				break;
			}
			head.write(b);
		}
		String headers = head.toString(StandardCharsets.ISO_8859_1);
		int length = 0;
		for (String line : headers.split("\r\n")) {
			if (line.toLowerCase().startsWith("content-length:")) {
				length = Integer.parseInt(line.substring(15).trim());
			}
		}
		byte[] body = in.readNBytes(length);
		return headers + new String(body, StandardCharsets.UTF_8);
	}

}
