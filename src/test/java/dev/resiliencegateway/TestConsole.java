package dev.resiliencegateway;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Messages a developer must see on the console while the build runs (surefire sends the tests'
 * {@code System.err} to report files): written to the test JVM's own standard error, which Maven
 * shows.
 */
public final class TestConsole {

	private TestConsole() {
	}

	public static void warn(String message) {
		try {
			PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
			err.println();
			err.println("*** " + message + " ***");
			err.println();
			err.flush();
		}
		catch (RuntimeException e) {
			// never fail a test over a console message
		}
	}

}
