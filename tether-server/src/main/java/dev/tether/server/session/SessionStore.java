package dev.tether.server.session;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Keeps detached sessions until they are resumed or expire.
 *
 * <p>Contract: {@link #take} is atomic, so of two connections racing to resume one session exactly
 * one gets it. A session not taken within its TTL is removed and handed to the expiry listener
 * exactly once (the hub then ends its presence). A store that keeps a bounded number of sessions
 * ends the one detached longest when a save goes beyond it, the same way.
 */
public interface SessionStore extends AutoCloseable {

    void save(SessionState state, Duration ttl);

    /** Removes and returns the session, or null when it is unknown or expired. */
    SessionState take(String id);

    /**
     * Removes and returns the session if it belongs to {@code user}, atomically like {@link #take};
     * a session of another user stays exactly as it was (its TTL and place are untouched) and the
     * answer is null, so naming someone else's session neither ends nor prolongs it.
     */
    SessionState takeOwn(String id, String user);

    int size();

    /** Sessions ended before their TTL because the store keeps a bounded number; 0 when unbounded. */
    default long evicted() {
        return 0;
    }

    void setExpiryListener(Consumer<SessionState> listener);

    @Override
    void close();
}
