package dev.tether.server.session;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Detached sessions in this process's memory. Limits: a single node; lost on restart. */
public final class MemorySessionStore implements SessionStore {
    private static final long SWEEP_INTERVAL_MILLIS = 250;

    private record Entry(SessionState state, long expiresAtMillis) {
    }

    private final ConcurrentHashMap<String, Entry> sessions = new ConcurrentHashMap<>();
    private final Clock clock;
    private final ScheduledExecutorService sweeper;
    private volatile Consumer<SessionState> expiryListener = s -> { };

    public MemorySessionStore(Clock clock) {
        this.clock = clock;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tether-session-expiry");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::expire, SWEEP_INTERVAL_MILLIS, SWEEP_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void save(SessionState state, Duration ttl) {
        sessions.put(state.id(), new Entry(state, clock.millis() + ttl.toMillis()));
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

    /** Removes every expired session; remove() decides the single winner against take(). */
    void expire() {
        long now = clock.millis();
        sessions.forEach((id, e) -> {
            if (e.expiresAtMillis() <= now && sessions.remove(id, e)) {
                try {
                    expiryListener.accept(e.state());
                } catch (RuntimeException ex) {
                    org.slf4j.LoggerFactory.getLogger(MemorySessionStore.class).warn("session expiry listener failed", ex);
                }
            }
        });
    }

    @Override
    public void setExpiryListener(Consumer<SessionState> listener) {
        this.expiryListener = listener;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
