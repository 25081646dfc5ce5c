package dev.resiliencegateway.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;

import dev.resiliencegateway.config.InvalidConfigurationException;

/**
 * The operator credential, checked with Spring Security's password encoders ({@code {bcrypt}} or
 * {@code {noop}} prefixes). {@link #NONE} when no password is configured: every write is refused.
 */
public final class AdminCredentials {

	public static final AdminCredentials NONE = new AdminCredentials(null, null);

	private static final PasswordEncoder ENCODER = PasswordEncoderFactories.createDelegatingPasswordEncoder();

	private final String username;

	private final String encodedPassword;

	private AdminCredentials(String username, String encodedPassword) {
		this.username = username;
		this.encodedPassword = encodedPassword;
	}

	/** Validates the configured password's format at startup. */
	public static AdminCredentials of(String username, String encodedPassword) {
		if (encodedPassword == null || encodedPassword.isBlank()) {
			return NONE;
		}
		if (!encodedPassword.matches("^\\{(bcrypt|noop|pbkdf2|scrypt|argon2|sha256)}.+")) {
			throw new InvalidConfigurationException("resilience.gateway.admin.password", "(hidden)",
					"a password with its encoding, such as {bcrypt}$2a$10$... or {noop}plain-text");
		}
		if (username == null || username.isBlank()) {
			throw new InvalidConfigurationException("resilience.gateway.admin.username", String.valueOf(username),
					"a non-empty user name");
		}
		return new AdminCredentials(username, encodedPassword);
	}

	public boolean configured() {
		return encodedPassword != null;
	}

	/** Whether this user name and password are the operator's. */
	public boolean matches(String user, String password) {
		if (!configured() || user == null || password == null) {
			return false;
		}
		boolean sameUser = MessageDigest.isEqual(user.getBytes(StandardCharsets.UTF_8),
				username.getBytes(StandardCharsets.UTF_8));
		boolean samePassword = ENCODER.matches(password, encodedPassword);
		return sameUser & samePassword;
	}

}
