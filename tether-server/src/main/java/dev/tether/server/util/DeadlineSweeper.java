package dev.tether.server.util;

import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A housekeeping sweep on its own daemon thread that runs when something is due instead of on a
 * fixed period. Owners call {@link #sweepAt} whenever they create a deadline; the sweep returns
 * the earliest deadline it left behind (or {@code Long.MAX_VALUE}) and is scheduled again for it.
 * With nothing due the thread sleeps: on the reference machine every wake-up of an idle thread cost
 * ~1.5 ms of CPU, so periodic sweeps were a visible share of an idle server (BENCHMARKS.md).
 *
 * <p>Sweeps are at least {@code minGapMillis} apart, and a scheduled sweep sleeps at most
 * {@code maxSleepMillis}, so that a clock that jumps ahead is noticed. Deadlines are in
 * {@code clock} milliseconds.
 */
public final class DeadlineSweeper implements AutoCloseable {
    private final Clock clock;
    private final LongSupplier sweep;
    private final long minGapMillis;
    private final long maxSleepMillis;
    private final ScheduledExecutorService thread;
    /** Guarded by this: the pending sweep; null when none. */
    private ScheduledFuture<?> scheduled;
    /** When the pending sweep is due, {@code Long.MAX_VALUE} when none; written under this. */
    private volatile long scheduledAt = Long.MAX_VALUE;

    /**
     * @param sweep does the work and returns the earliest deadline left, {@code Long.MAX_VALUE} if none
     */
    public DeadlineSweeper(String threadName, Clock clock, long minGapMillis, long maxSleepMillis, LongSupplier sweep) {
        this.clock = clock;
        this.sweep = sweep;
        this.minGapMillis = minGapMillis;
        this.maxSleepMillis = maxSleepMillis;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Makes sure a sweep runs no later than {@code atMillis} (or {@code maxSleepMillis} from now).
     * Cheap when an earlier sweep is already due: one volatile read, no lock.
     */
    public void sweepAt(long atMillis) {
        if (scheduledAt <= atMillis) {
            return;
        }
        synchronized (this) {
            if (thread.isShutdown() || scheduledAt <= atMillis) {
                return;
            }
            if (scheduled != null) {
                scheduled.cancel(false);
            }
            long now = clock.millis();
            long delay = Math.max(0, Math.min(maxSleepMillis, atMillis - now));
            scheduledAt = now + delay;
            scheduled = thread.schedule(this::run, delay, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A deadline created while this runs is either seen by the sweep or schedules its own run: the
     * owner records it before calling {@link #sweepAt}, which synchronises with the reset here.
     */
    private void run() {
        synchronized (this) {
            scheduled = null;
            scheduledAt = Long.MAX_VALUE;
        }
        long now = clock.millis();
        long next = sweep.getAsLong();
        if (next != Long.MAX_VALUE) {
            sweepAt(Math.max(next, now + minGapMillis));
        }
    }

    /** Whether a sweep is scheduled. */
    public boolean pending() {
        return scheduledAt != Long.MAX_VALUE;
    }

    @Override
    public synchronized void close() {
        thread.shutdownNow();
    }
}
