package dev.tether.client;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/** {@link Backoff#exponentialFullJitter}: uniform in {@code [0, min(max, min * 2^attempt)]}. */
final class ExponentialFullJitter implements Backoff {
    /** Beyond this many doublings the ceiling is {@code max} anyway; avoids overflow. */
    private static final int MAX_SHIFT = 30;

    private final long minMillis;
    private final long maxMillis;
    private final DoubleSupplier random;

    ExponentialFullJitter(Duration min, Duration max, DoubleSupplier random) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("need 0 < min <= max, got min " + min + ", max " + max);
        }
        this.minMillis = min.toMillis();
        this.maxMillis = max.toMillis();
        this.random = random;
    }

    @Override
    public Duration delay(int attempt) {
        return Duration.ofMillis(Math.round(random.getAsDouble() * ceilingMillis(attempt)));
    }

    long ceilingMillis(int attempt) {
        int shift = Math.min(Math.max(attempt, 0), MAX_SHIFT);
        return minMillis > (maxMillis >> shift) ? maxMillis : Math.min(maxMillis, minMillis << shift);
    }

    @Override
    public String toString() {
        return "exponentialFullJitter(" + minMillis + " ms, " + maxMillis + " ms)";
    }
}
