package dev.tether.server.session;

import dev.tether.server.util.DeadlineSweeper;
import dev.tether.server.util.WarningThrottle;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Detached sessions in this process's memory. Limits: a single node; lost on restart; at most
 * {@code maxSessions} kept: saving one more ends the session detached longest first (as if its TTL
 * had run out: the expiry listener hears of it and a resume of it fails), so that clients that
 * drop and come back with new sessions faster than the TTL lets them go cannot fill the heap.
 *
 * <p>Expired sessions are removed by a {@link DeadlineSweeper} scheduled for the earliest expiry,
 * not periodically: with no detached session its thread never wakes (a 250 ms periodic sweep was
 * 0.8 % of a core on an otherwise idle server). {@link #take} checks the expiry itself, so an
 * expired session is never handed out whenever the sweep runs.
 *
 * <p>Sessions are kept in the order they were saved under this object's monitor (saves and takes
 * come at the rate connections drop and resume, not per message). The listener is always called
 * outside it.
 */
public final class MemorySessionStore implements SessionStore {
    static final long MIN_SWEEP_GAP_MILLIS = 250;
    static final long MAX_SLEEP_MILLIS = 5_000;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MemorySessionStore.class);

    private record Entry(SessionState state, long expiresAtMillis) {
    }

    /** Guarded by this; in the order saved, so the first is the one detached longest. */
    private final LinkedHashMap<String, Entry> sessions = new LinkedHashMap<>();
    /**
     * Guarded by this: whether expiries rise in save order (one TTL and a clock that does not step
     * back), so that a sweep may stop at the first session that has not expired; and the latest expiry
     * saved. Reset whenever the store is empty.
     */
    private boolean ordered = true;
    private long latestExpiry = Long.MIN_VALUE;
    private final int maxSessions;
    private final LongAdder evicted = new LongAdder();
    /** The warning about the limit: at most once a minute, with the sessions ended since the last. */
    private final WarningThrottle evictionWarning;
    private final Clock clock;
    private final DeadlineSweeper sweeper;
    private volatile Consumer<SessionState> expiryListener = s -> { };

    /** With no limit on the sessions kept; tests. */
    public MemorySessionStore(Clock clock) {
        this(clock, Integer.MAX_VALUE);
    }

    /** @param maxSessions detached sessions kept at most ({@code max-detached-sessions}) */
    public MemorySessionStore(Clock clock, int maxSessions) {
        if (maxSessions < 1) {
            throw new IllegalArgumentException("at least one session, got " + maxSessions);
        }
        this.clock = clock;
        this.maxSessions = maxSessions;
        this.evictionWarning = new WarningThrottle(Duration.ofMinutes(1), clock);
        this.sweeper = new DeadlineSweeper("tether-session-expiry", clock, MIN_SWEEP_GAP_MILLIS, MAX_SLEEP_MILLIS,
                this::expire);
    }

    @Override
    public void save(SessionState state, Duration ttl) {
        long expiresAt;
        List<SessionState> ended = null;
        long warnEnded = 0;
        synchronized (this) {
            // Read under the monitor, so that save order is expiry order whenever the TTL is one.
            expiresAt = clock.millis() + ttl.toMillis();
            if (sessions.isEmpty()) {
                ordered = true;
                latestExpiry = Long.MIN_VALUE;
            }
            if (expiresAt < latestExpiry) {
                ordered = false;
            }
            latestExpiry = Math.max(latestExpiry, expiresAt);
            sessions.remove(state.id()); // saved again: now the newest
            sessions.put(state.id(), new Entry(state, expiresAt));
            while (sessions.size() > maxSessions) {
                var oldest = sessions.values().iterator();
                Entry e = oldest.next();
                oldest.remove();
                (ended == null ? ended = new ArrayList<>() : ended).add(e.state());
            }
            if (ended != null) {
                warnEnded = evictionWarning.count(ended.size());
            }
        }
        if (warnEnded > 0) {
            log.warn("max-detached-sessions ({}) reached: {} dropped sessions ended before their session-ttl to make"
                    + " room (their clients get fresh sessions and recover by since). Raise max-detached-sessions"
                    + " or find the clients that reconnect without resuming; logged at most once a minute,"
                    + " tether_sessions_evicted_total counts every one.", maxSessions, warnEnded);
        }
        sweeper.sweepAt(expiresAt);
        if (ended != null) {
            evicted.add(ended.size());
            ended.forEach(this::ended);
        }
    }

    @Override
    public SessionState take(String id) {
        return takeOwn(id, null);
    }

    @Override
    public SessionState takeOwn(String id, String user) {
        Entry e;
        synchronized (this) {
            e = sessions.get(id);
            if (e == null || (user != null && !user.equals(e.state().user()))) {
                return null;
            }
            sessions.remove(id);
        }
        if (e == null) {
            return null;
        }
        if (e.expiresAtMillis() <= clock.millis()) {
            ended(e.state());
            return null;
        }
        return e.state();
    }

    @Override
    public synchronized int size() {
        return sessions.size();
    }

    @Override
    public long evicted() {
        return evicted.sum();
    }

    /**
     * Removes every expired session (the monitor decides the single winner against take()) and
     * returns the earliest expiry left, {@code Long.MAX_VALUE} if none.
     */
    long expire() {
        long now = clock.millis();
        long next = Long.MAX_VALUE;
        List<SessionState> ended = new ArrayList<>();
        synchronized (this) {
            for (var it = sessions.values().iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (e.expiresAtMillis() > now) {
                    next = Math.min(next, e.expiresAtMillis());
                    if (ordered) {
                        break; // the rest were saved later and expire no earlier
                    }
                } else {
                    it.remove();
                    ended.add(e.state());
                }
            }
        }
        ended.forEach(this::ended);
        return next;
    }

    private void ended(SessionState state) {
        try {
            expiryListener.accept(state);
        } catch (RuntimeException ex) {
            log.warn("session expiry listener failed", ex);
        }
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
