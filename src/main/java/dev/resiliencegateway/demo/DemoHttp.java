package dev.resiliencegateway.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;

/** The demo replica's small HTTP and JSON helpers (JDK only). */
final class DemoHttp {

	private DemoHttp() {
	}

	static void send(HttpExchange ex, int status, String json) throws IOException {
		byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
		ex.getResponseHeaders().set("Content-Type", "application/json");
		ex.sendResponseHeaders(status, bytes.length);
		try (OutputStream out = ex.getResponseBody()) {
			out.write(bytes);
		}
	}

	static byte[] readAll(InputStream in) throws IOException {
		return in.readAllBytes();
	}

	static Map<String, List<String>> copy(Headers headers) {
		Map<String, List<String>> out = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
		headers.forEach((k, v) -> out.put(k, List.copyOf(v)));
		return out;
	}

	static Map<String, String> query(String raw) {
		Map<String, String> out = new java.util.HashMap<>();
		if (raw == null) {
			return out;
		}
		for (String pair : raw.split("&")) {
			int eq = pair.indexOf('=');
			if (eq > 0) {
				out.put(pair.substring(0, eq), java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
			}
		}
		return out;
	}

	static String escape(String s) {
		return s.replace("\\", "\\\\").replace("\"", "\\\"");
	}

	static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

}
