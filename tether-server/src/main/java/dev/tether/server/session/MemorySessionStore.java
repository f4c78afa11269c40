package dev.tether.server.session;

import dev.tether.server.util.DeadlineSweeper;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Detached sessions in this process's memory. Limits: a single node; lost on restart.
 *
 * <p>Expired sessions are removed by a {@link DeadlineSweeper} scheduled for the earliest expiry,
 * not periodically: with no detached session its thread never wakes (a 250 ms periodic sweep was
 * 0.8 % of a core on an otherwise idle server). {@link #take} checks the expiry itself, so an
 * expired session is never handed out whenever the sweep runs.
 */
public final class MemorySessionStore implements SessionStore {
    static final long MIN_SWEEP_GAP_MILLIS = 250;
    static final long MAX_SLEEP_MILLIS = 5_000;

    private record Entry(SessionState state, long expiresAtMillis) {
    }

    private final ConcurrentHashMap<String, Entry> sessions = new ConcurrentHashMap<>();
    private final Clock clock;
    private final DeadlineSweeper sweeper;
    private volatile Consumer<SessionState> expiryListener = s -> { };

    public MemorySessionStore(Clock clock) {
        this.clock = clock;
        this.sweeper = new DeadlineSweeper("tether-session-expiry", clock, MIN_SWEEP_GAP_MILLIS, MAX_SLEEP_MILLIS,
                this::expire);
    }

    @Override
    public void save(SessionState state, Duration ttl) {
        long expiresAt = clock.millis() + ttl.toMillis();
        sessions.put(state.id(), new Entry(state, expiresAt));
        sweeper.sweepAt(expiresAt);
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
     * Removes every expired session (remove() decides the single winner against take()) and
     * returns the earliest expiry left, {@code Long.MAX_VALUE} if none.
     */
    long expire() {
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
        return next;
    }

    @Override
    public void setExpiryListener(Consumer<SessionState> listener) {
        this.expiryListener = listener;
    }

    @Override
    public void close() {
        sweeper.close();
    }

    /** Whether a sweep is scheduled (none while no detached session is kept). */
    boolean sweepPending() {
        return sweeper.pending();
    }
}
