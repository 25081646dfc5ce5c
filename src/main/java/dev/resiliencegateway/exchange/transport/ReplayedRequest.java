package dev.resiliencegateway.exchange.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/** The client's request with a body the gateway had already read, for a forward to a fallback path. */
public final class ReplayedRequest extends HttpServletRequestWrapper {

	private final ServletInputStream body;

	public ReplayedRequest(HttpServletRequest request, InputStream body) {
		super(request);
		this.body = new ServletInputStream() {

			private boolean finished;

			@Override
			public int read() throws IOException {
				int b = body.read();
				finished = b < 0;
				return b;
			}

			@Override
			public int read(byte[] buffer, int off, int len) throws IOException {
				int n = body.read(buffer, off, len);
				finished = n < 0;
				return n;
			}

			@Override
			public boolean isFinished() {
				return finished;
			}

			@Override
			public boolean isReady() {
				return true;
			}

			@Override
			public void setReadListener(ReadListener listener) {
				throw new IllegalStateException("a replayed body is read with blocking I/O");
			}

		};
	}

	@Override
	public ServletInputStream getInputStream() {
		return body;
	}

	@Override
	public BufferedReader getReader() {
		String encoding = getCharacterEncoding();
		Charset charset = encoding == null ? StandardCharsets.ISO_8859_1 : Charset.forName(encoding);
		return new BufferedReader(new InputStreamReader(body, charset));
	}

}
