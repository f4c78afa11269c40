package dev.tether.server.util;

import java.time.Clock;
import java.time.Duration;

/**
 * Lets a warning about a recurring event through at most once per period, with the number of
 * events since the last one that got through, so a flood of events (sessions evicted, slow
 * consumers closed, history trimmed) costs one log line a minute instead of one each. The metric
 * next to each warning counts every event. Thread-safe.
 */
public final class WarningThrottle {
    private final long periodMillis;
    private final Clock clock;
    /** Guarded by this. */
    private long last = Long.MIN_VALUE;
    private long pending;

    public WarningThrottle(Duration period, Clock clock) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("period must be positive: " + period);
        }
        this.periodMillis = period.toMillis();
        this.clock = clock;
    }

    /**
     * Counts {@code events} more. Returns how many to report now, those included, when the first
     * warning is due or a period has passed since the last one; else 0 and keeps them for the next.
     */
    public synchronized long count(long events) {
        pending += events;
        if (pending == 0) {
            return 0;
        }
        long now = clock.millis();
        if (last != Long.MIN_VALUE && now - last < periodMillis) {
            return 0;
        }
        last = now;
        long report = pending;
        pending = 0;
        return report;
    }
}
