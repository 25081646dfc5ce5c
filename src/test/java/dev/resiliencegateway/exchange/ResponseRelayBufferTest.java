package dev.resiliencegateway.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResponseRelayBufferTest {

	@Test
	void aBodyOfKnownLengthGetsABufferOfItsSizeUpTo16KB() {
		assertThat(ResponseRelay.bufferFor("123")).isEqualTo(123);
		assertThat(ResponseRelay.bufferFor("0")).isEqualTo(1);
		assertThat(ResponseRelay.bufferFor("16384")).isEqualTo(16384);
		assertThat(ResponseRelay.bufferFor("16385")).isEqualTo(16384);
		assertThat(ResponseRelay.bufferFor("99999")).isEqualTo(16384);
		assertThat(ResponseRelay.bufferFor("10737418240")).isEqualTo(16384);
	}

	@Test
	void withoutAUsableLengthTheBufferIs16KB() {
		assertThat(ResponseRelay.bufferFor(null)).isEqualTo(16384);
		assertThat(ResponseRelay.bufferFor("")).isEqualTo(16384);
		assertThat(ResponseRelay.bufferFor("12a")).isEqualTo(16384);
		assertThat(ResponseRelay.bufferFor("-1")).isEqualTo(16384);
	}

}
