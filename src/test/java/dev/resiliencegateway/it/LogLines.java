package dev.resiliencegateway.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

/**
 * The formatted lines one logger writes while a test runs, safe to read while the gateway's threads
 * still log. Logback's {@code ListAppender} keeps a plain {@code ArrayList} filled under the
 * appender's own lock, so a test that streams over it while a request thread appends fails now and
 * then with a {@code ConcurrentModificationException} (it did, in CI, in {@code TracingIT}).
 */
final class LogLines extends AppenderBase<ILoggingEvent> implements AutoCloseable {

	private final List<String> lines = new CopyOnWriteArrayList<>();

	private final Logger logger;

	private LogLines(String loggerName) {
		this.logger = (Logger) LoggerFactory.getLogger(loggerName);
	}

	/** Starts capturing what the named logger writes (at whatever level it is set to). */
	static LogLines of(String loggerName) {
		LogLines capture = new LogLines(loggerName);
		capture.start();
		capture.logger.addAppender(capture);
		return capture;
	}

	@Override
	protected void append(ILoggingEvent event) {
		this.lines.add(event.getFormattedMessage());
	}

	/** The lines so far, a copy that later lines do not change. */
	List<String> lines() {
		return List.copyOf(this.lines);
	}

	@Override
	public void close() {
		this.logger.detachAppender(this);
		stop();
	}

}
