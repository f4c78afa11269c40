package dev.tether.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * How long to wait before the next reconnect attempt. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Backoff {

    /**
     * The delay before reconnect attempt {@code attempt}: 0 for the first attempt after a
     * connection was lost or failed, 1 for the next, and so on; it starts again at 0 once a
     * connection is established.
     */
    Duration delay(int attempt);

    /**
     * Exponential backoff with full jitter: attempt {@code n} waits a uniformly random time in
     * {@code [0, min(max, min * 2^n)]}. The ceiling starts at {@code min} and doubles up to
     * {@code max}, and the randomness spreads clients that lost their server at the same moment.
     * The client's default is {@code exponentialFullJitter(500 ms, 20 s)}.
     */
    static Backoff exponentialFullJitter(Duration min, Duration max) {
        return exponentialFullJitter(min, max, () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * As {@link #exponentialFullJitter(Duration, Duration)}, drawing from {@code random}, which
     * returns values in {@code [0, 1)} (tests pass a fixed sequence).
     */
    static Backoff exponentialFullJitter(Duration min, Duration max, DoubleSupplier random) {
        return new ExponentialFullJitter(min, max, random);
    }

    /** The same delay for every attempt (for tests and special deployments). */
    static Backoff constant(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative: " + delay);
        }
        return attempt -> delay;
    }
}
