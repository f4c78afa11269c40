package dev.tether.testkit;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A UTC clock that stands still until a test moves it; safe to read from any thread. */
public final class FakeClock extends Clock {
    private final AtomicLong millis;

    /** Starts at 2023-11-14T22:13:20Z (epoch millis 1,700,000,000,000). */
    public FakeClock() {
        this(1_700_000_000_000L);
    }

    public FakeClock(long startMillis) {
        this.millis = new AtomicLong(startMillis);
    }

    /** Moves the clock forward by {@code delta} milliseconds. */
    public void advance(long delta) {
        millis.addAndGet(delta);
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
