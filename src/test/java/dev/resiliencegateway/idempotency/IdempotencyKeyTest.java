package dev.resiliencegateway.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IdempotencyKeyTest {

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = {
		"\"8e03978e-40d5-43e8-bc93-6894a57f9324\"|8e03978e-40d5-43e8-bc93-6894a57f9324",
		"8e03978e-40d5-43e8-bc93-6894a57f9324|8e03978e-40d5-43e8-bc93-6894a57f9324",
		"  order-7  |order-7",
		"\"with space\"|with space",
		"\"a\\\"b\"|a\"b",
		"\"a\\\\b\"|a\\b" })
	void acceptsStructuredFieldStringsAndBareTokens(String header, String key) throws Exception {
		assertThat(IdempotencyKey.parse(List.of(header))).isEqualTo(key);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "  ", "\"\"", "a b", "\"open", "\"a\"b", "\"a\\xb\"", "caf\u00e9", "a;b", "a,b",
			"tab\there" })
	void refusesWhatIsNotAKey(String header) {
		assertThatThrownBy(() -> IdempotencyKey.parse(List.of(header)))
			.isInstanceOf(IdempotencyKey.InvalidKeyException.class);
	}

	@org.junit.jupiter.api.Test
	void refusesTwoFieldLinesAndOverlongKeys() throws Exception {
		assertThatThrownBy(() -> IdempotencyKey.parse(List.of("a", "b"))).hasMessageContaining("one Idempotency-Key");
		assertThat(IdempotencyKey.parse(List.of("k".repeat(255)))).hasSize(255);
		assertThatThrownBy(() -> IdempotencyKey.parse(List.of("k".repeat(256)))).hasMessageContaining("256");
	}

}
