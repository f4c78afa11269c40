package dev.tether.client;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns reconnecting: schedules the next connection attempt after the backoff delay (or the
 * server's {@code retryAfter}), with a compare-and-set guard so that at most one attempt is ever
 * pending however many failures are reported. Thread-safe; the attempt runs on the scheduler.
 */
final class ConnectionWatchdog {
    private static final Logger log = LoggerFactory.getLogger(ConnectionWatchdog.class);

    private final Scheduler scheduler;
    private final Backoff backoff;
    private final Runnable attempt;
    /** The guard: true from scheduling an attempt until it starts. */
    private final AtomicBoolean pending = new AtomicBoolean();
    /** Set once by {@link #stop()}; no attempt is scheduled or started after. */
    private volatile boolean stopped;
    /**
     * Attempts since the last established connection. Written by {@link #scheduleReconnect} while
     * holding the guard and by {@link #connected()}; in the client both run on its event loop.
     */
    private volatile int failures;
    /** The pending attempt. Written while holding the guard. */
    private volatile Scheduler.Cancellable scheduled;

    ConnectionWatchdog(Scheduler scheduler, Backoff backoff, Runnable attempt) {
        this.scheduler = scheduler;
        this.backoff = backoff;
        this.attempt = attempt;
    }

    /**
     * Schedules one reconnect attempt unless one is pending already.
     *
     * @param retryAfterMillis the server's advice for the delay, or -1 for none; with
     *                         {@code longer} the larger of it and the backoff delay is used
     * @return the delay in milliseconds, or -1 if an attempt was pending already or the watchdog
     *         is stopped
     */
    long scheduleReconnect(long retryAfterMillis, boolean longer) {
        if (stopped || !pending.compareAndSet(false, true)) {
            return -1;
        }
        long backoffMillis = Math.max(0, backoff.delay(failures).toMillis());
        failures = failures + 1;
        long delay = retryAfterMillis < 0 ? backoffMillis
                : longer ? Math.max(retryAfterMillis, backoffMillis) : retryAfterMillis;
        log.debug("reconnect attempt {} in {} ms", failures, delay);
        scheduled = scheduler.schedule(this::fire, delay);
        return delay;
    }

    private void fire() {
        pending.set(false);
        if (!stopped) {
            attempt.run();
        }
    }

    /** True while an attempt is scheduled and has not started. */
    boolean isPending() {
        return pending.get();
    }

    /**
     * How long a connection must last before the backoff starts over. A server that accepts the
     * connect and then closes at once (overloaded, draining, a policy close) would otherwise get
     * reconnects every few hundred milliseconds for ever.
     */
    static final long STABLE_MILLIS = 10_000;
    /** Resets {@link #failures} once the current connection has lasted {@link #STABLE_MILLIS}. */
    private volatile Scheduler.Cancellable stable;

    /** A connection was established: if it lasts, the next loss starts the backoff from the beginning. */
    void connected() {
        Scheduler.Cancellable previous = stable;
        if (previous != null) {
            previous.cancel();
        }
        stable = scheduler.schedule(() -> failures = 0, STABLE_MILLIS);
    }

    /** The connection was lost: if it did not last, the backoff goes on growing. */
    void disconnected() {
        Scheduler.Cancellable s = stable;
        if (s != null) {
            s.cancel();
            stable = null;
        }
    }

    /** Cancels any pending attempt for good (the client closed). */
    void stop() {
        stopped = true;
        disconnected();
        Scheduler.Cancellable s = scheduled;
        if (s != null) {
            s.cancel();
        }
    }
}
