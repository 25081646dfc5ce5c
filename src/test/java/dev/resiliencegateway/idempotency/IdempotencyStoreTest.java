package dev.resiliencegateway.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import io.lettuce.core.ClientOptions;

/**
 * The two stores behave alike: one claim wins among many, only the claim's holder completes or
 * releases it, answers survive the round trip; the Redis store against a real redis-server, and
 * failing fast (not hanging) once it is gone.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class IdempotencyStoreTest {

	private static RedisServer redis;

	private static LettuceConnectionFactory factory;

	@BeforeAll
	static void start() throws Exception {
		redis = RedisServer.start();
		factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", redis.port()),
				LettuceClientConfiguration.builder()
					.commandTimeout(Duration.ofMillis(250))
					.clientOptions(ClientOptions.builder()
						.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
						.build())
					.build());
		factory.afterPropertiesSet();
		factory.start();
	}

	@AfterAll
	static void stop() throws Exception {
		if (factory != null) {
			factory.destroy();
		}
		if (redis != null) {
			redis.close();
		}
	}

	private static RedisIdempotencyStore redisStore(String prefix) {
		StringRedisTemplate template = new StringRedisTemplate(factory);
		template.afterPropertiesSet();
		return new RedisIdempotencyStore(template, prefix);
	}

	private static List<IdempotencyStore> stores(String name) {
		return List.of(new InMemoryIdempotencyStore(100), redisStore("test:" + name + ":"));
	}

	private static final StoredAnswer ANSWER = StoredAnswer.answer("fp", 201,
			List.of("Content-Type", "application/json", "Location", "/orders/7"), "{\"id\":7}".getBytes());

	@Test
	void oneClaimWinsAmongManyAtOnce() throws Exception {
		for (IdempotencyStore store : stores("race")) {
			ExecutorService pool = Executors.newFixedThreadPool(16);
			try {
				List<Callable<IdempotencyStore.Claim>> claims = new java.util.ArrayList<>();
				for (int i = 0; i < 32; i++) {
					String token = "t" + i;
					claims.add(() -> store.claim("k", token, "fp", 1000, Duration.ofMinutes(1)));
				}
				long won = 0;
				for (Future<IdempotencyStore.Claim> f : pool.invokeAll(claims)) {
					if (f.get() instanceof IdempotencyStore.Claimed) {
						won++;
					}
					else {
						assertThat(f.get()).isEqualTo(new IdempotencyStore.InFlight("fp", 1000));
					}
				}
				assertThat(won).as(store.getClass().getSimpleName()).isEqualTo(1);
			}
			finally {
				pool.shutdownNow();
			}
		}
	}

	@Test
	void onlyTheHolderCompletesAndTheAnswerComesBackWhole() {
		for (IdempotencyStore store : stores("complete")) {
			assertThat(store.claim("k", "mine", "fp", 1, Duration.ofMinutes(1))).isInstanceOf(IdempotencyStore.Claimed.class);
			store.complete("k", "someone-else", StoredAnswer.unknown("fp", 504, "x"), Duration.ofMinutes(1));
			store.release("k", "someone-else");
			assertThat(store.peek("k")).isInstanceOf(IdempotencyStore.InFlight.class);
			store.complete("k", "mine", ANSWER, Duration.ofMinutes(1));
			IdempotencyStore.Claim done = store.claim("k", "later", "fp", 2, Duration.ofMinutes(1));
			assertThat(done).isInstanceOf(IdempotencyStore.Done.class);
			StoredAnswer back = ((IdempotencyStore.Done) done).answer();
			assertThat(back.status()).isEqualTo(201);
			assertThat(back.headers()).isEqualTo(ANSWER.headers());
			assertThat(back.body()).isEqualTo(ANSWER.body());
			store.release("k", "mine");
			assertThat(store.peek("k")).as("a kept answer is never released").isInstanceOf(IdempotencyStore.Done.class);
		}
	}

	@Test
	void aReleasedKeyMayBeClaimedAgain() {
		for (IdempotencyStore store : stores("release")) {
			store.claim("k", "a", "fp", 1, Duration.ofMinutes(1));
			store.release("k", "a");
			assertThat(store.peek("k")).isNull();
			assertThat(store.claim("k", "b", "fp", 1, Duration.ofMinutes(1))).isInstanceOf(IdempotencyStore.Claimed.class);
		}
	}

	@Test
	void redisExpiresKeysAfterTheirTtl() throws Exception {
		IdempotencyStore store = redisStore("test:ttl:");
		store.claim("k", "a", "fp", 1, Duration.ofMillis(200));
		store.complete("k", "a", ANSWER, Duration.ofMillis(200));
		assertThat(store.peek("k")).isNotNull();
		Thread.sleep(400);
		assertThat(store.peek("k")).isNull();
	}

	@Test
	void storedAnswersRoundTrip() {
		for (StoredAnswer a : List.of(ANSWER, StoredAnswer.unknown("fp", 504, "timed out"),
				StoredAnswer.tooLarge("fp", 201, "too large"))) {
			StoredAnswer back = StoredAnswer.decode(a.encode());
			assertThat(back.kind()).isEqualTo(a.kind());
			assertThat(back.status()).isEqualTo(a.status());
			assertThat(back.detail()).isEqualTo(a.detail());
			assertThat(back.body()).isEqualTo(a.body());
		}
		assertThatThrownBy(() -> StoredAnswer.decode(new byte[] { 9, 9 })).isInstanceOf(IllegalArgumentException.class);
	}

	/** Last: it stops the server. */
	@Test
	@org.junit.jupiter.api.Order(Integer.MAX_VALUE)
	void aStoppedRedisFailsFastAndRecovers() throws Exception {
		IdempotencyStore store = redisStore("test:down:");
		redis.stop();
		long start = System.nanoTime();
		assertThatThrownBy(() -> store.claim("k", "a", "fp", 1, Duration.ofMinutes(1)))
			.isInstanceOf(IdempotencyStore.StoreUnavailableException.class);
		assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no hang").isLessThan(Duration.ofSeconds(5));
		redis.run();
		IdempotencyStore.Claim claim = null;
		for (int i = 0; i < 100 && claim == null; i++) {
			try {
				claim = store.claim("k", "a", "fp", 1, Duration.ofMinutes(1));
			}
			catch (IdempotencyStore.StoreUnavailableException e) {
				Thread.sleep(100); // Lettuce reconnects on its own
			}
		}
		assertThat(claim).isInstanceOf(IdempotencyStore.Claimed.class);
	}

}
