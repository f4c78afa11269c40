package dev.tether.server.session;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Detached sessions in this process's memory. Limits: a single node; lost on restart.
 *
 * <p>Expired sessions are removed by a sweep that is scheduled for the earliest expiry, not run
 * periodically: with no detached session the sweeper thread never wakes. (On the reference
 * machine every wake-up of an idle thread cost about 1.5 ms of CPU; a 250 ms periodic sweep was
 * 0.8 % of a core on an otherwise idle server.) Sweeps are at least {@link #MIN_SWEEP_GAP_MILLIS}
 * apart, and a scheduled sweep sleeps at most {@link #MAX_SLEEP_MILLIS}, so that a clock that
 * jumps ahead is noticed soon. {@link #take} checks the expiry itself, so an expired session is
 * never handed out whenever the sweep runs.
 */
public final class MemorySessionStore implements SessionStore {
    static final long MIN_SWEEP_GAP_MILLIS = 250;
    static final long MAX_SLEEP_MILLIS = 5_000;

    private record Entry(SessionState state, long expiresAtMillis) {
    }

    private final ConcurrentHashMap<String, Entry> sessions = new ConcurrentHashMap<>();
    private final Clock clock;
    private final ScheduledExecutorService sweeper;
    private volatile Consumer<SessionState> expiryListener = s -> { };
    /** Guarded by this: the pending sweep and when it is due (clock millis); null when none. */
    private ScheduledFuture<?> scheduled;
    private long scheduledAt;

    public MemorySessionStore(Clock clock) {
        this.clock = clock;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tether-session-expiry");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void save(SessionState state, Duration ttl) {
        long expiresAt = clock.millis() + ttl.toMillis();
        sessions.put(state.id(), new Entry(state, expiresAt));
        sweepAt(expiresAt);
    }

    /** Makes sure a sweep runs no later than {@code atMillis} (or {@link #MAX_SLEEP_MILLIS} from now). */
    private synchronized void sweepAt(long atMillis) {
        if (sweeper.isShutdown() || scheduled != null && scheduledAt <= atMillis) {
            return;
        }
        if (scheduled != null) {
            scheduled.cancel(false);
        }
        long delay = Math.max(0, Math.min(MAX_SLEEP_MILLIS, atMillis - clock.millis()));
        scheduledAt = clock.millis() + delay;
        scheduled = sweeper.schedule(this::expire, delay, TimeUnit.MILLISECONDS);
    }

    @Override
    public SessionState take(String id) {
        Entry e = sessions.remove(id);
        if (e == null) {
            return null;
        }
        if (e.expiresAtMillis() <= clock.millis()) {
            expiryListener.accept(e.state());
            return null;
        }
        return e.state();
    }

    @Override
    public int size() {
        return sessions.size();
    }

    /**
     * Removes every expired session (remove() decides the single winner against take()), then
     * schedules the next sweep for the earliest expiry left. A session saved while this runs is
     * either seen here or schedules its own sweep: it is put before {@code sweepAt}, which
     * synchronises with the reset below.
     */
    void expire() {
        synchronized (this) {
            scheduled = null;
        }
        long now = clock.millis();
        long next = Long.MAX_VALUE;
        for (var it = sessions.entrySet().iterator(); it.hasNext(); ) {
            var en = it.next();
            Entry e = en.getValue();
            if (e.expiresAtMillis() > now) {
                next = Math.min(next, e.expiresAtMillis());
            } else if (sessions.remove(en.getKey(), e)) {
                try {
                    expiryListener.accept(e.state());
                } catch (RuntimeException ex) {
                    org.slf4j.LoggerFactory.getLogger(MemorySessionStore.class).warn("session expiry listener failed", ex);
                }
            }
        }
        if (next != Long.MAX_VALUE) {
            sweepAt(Math.max(next, now + MIN_SWEEP_GAP_MILLIS));
        }
    }

    @Override
    public void setExpiryListener(Consumer<SessionState> listener) {
        this.expiryListener = listener;
    }

    @Override
    public synchronized void close() {
        sweeper.shutdownNow();
    }

    /** Whether a sweep is scheduled (none while no detached session is kept). */
    synchronized boolean sweepPending() {
        return scheduled != null;
    }
}
