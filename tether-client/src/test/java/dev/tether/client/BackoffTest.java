package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration MIN = Duration.ofMillis(500);
    private static final Duration MAX = Duration.ofSeconds(20);

    @Test
    void ceilingStartsAtMinAndDoublesUpToMax() {
        Backoff top = Backoff.exponentialFullJitter(MIN, MAX, () -> 0.999_999_9);
        assertThat(top.delay(0)).isEqualTo(Duration.ofMillis(500));
        assertThat(top.delay(1)).isEqualTo(Duration.ofMillis(1000));
        assertThat(top.delay(2)).isEqualTo(Duration.ofMillis(2000));
        assertThat(top.delay(5)).isEqualTo(Duration.ofMillis(16000));
        assertThat(top.delay(6)).isEqualTo(MAX);
        assertThat(top.delay(1_000)).isEqualTo(MAX);
        assertThat(top.delay(Integer.MAX_VALUE)).isEqualTo(MAX);
    }

    @Test
    void lowestDrawWaitsNothing() {
        Backoff bottom = Backoff.exponentialFullJitter(MIN, MAX, () -> 0.0);
        for (int attempt = 0; attempt < 40; attempt++) {
            assertThat(bottom.delay(attempt)).isZero();
        }
    }

    @Test
    void everyDelayStaysWithinZeroAndItsCeiling() {
        Random rnd = new Random(7);
        Backoff b = Backoff.exponentialFullJitter(MIN, MAX, rnd::nextDouble);
        for (int attempt = 0; attempt < 50; attempt++) {
            long ceiling = Math.min(MAX.toMillis(), MIN.toMillis() << Math.min(attempt, 20));
            for (int i = 0; i < 200; i++) {
                assertThat(b.delay(attempt).toMillis()).isBetween(0L, ceiling);
            }
        }
    }

    @Test
    void jitterSpreadsClientsThatFailedTogether() {
        Random rnd = new Random(11);
        Backoff b = Backoff.exponentialFullJitter(MIN, MAX, rnd::nextDouble);
        Set<Long> distinct = new HashSet<>();
        long sum = 0;
        int n = 1_000;
        for (int i = 0; i < n; i++) {
            long d = b.delay(3).toMillis();
            distinct.add(d);
            sum += d;
        }
        assertThat(distinct).as("delays for the same attempt differ").hasSizeGreaterThan(500);
        assertThat(sum / n).as("uniform over [0, 4000]: mean near 2000").isBetween(1800L, 2200L);
    }

    @Test
    void defaultBackoffUsesRealRandomnessWithinBounds() {
        Backoff b = Backoff.exponentialFullJitter(MIN, MAX);
        for (int i = 0; i < 100; i++) {
            assertThat(b.delay(i % 10)).isBetween(Duration.ZERO, MAX);
        }
    }

    @Test
    void rejectsMinAboveMaxOrNotPositive() {
        assertThatThrownBy(() -> Backoff.exponentialFullJitter(MAX, MIN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Backoff.exponentialFullJitter(Duration.ZERO, MAX)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Backoff.constant(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
