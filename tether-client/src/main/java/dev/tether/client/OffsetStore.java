package dev.tether.client;

/**
 * Where a client keeps, per channel, the position its application has handled, and its session
 * token, so that a new client (for example after the process restarted) continues where the
 * last one stopped: it resumes the session if the server still has it, and otherwise
 * subscribes with {@code since} the saved position.
 *
 * <p>Contract: implementations are thread-safe. The client calls them from its callback
 * threads, never from a network thread, so they may do blocking I/O. {@link #save} is called
 * about as often as the client acknowledges (at most every 200 ms per channel, more often under
 * heavy traffic) with positions that only move forward within an epoch; each call must be
 * atomic (a crash leaves the old or the new position, never a mix). Positions saved are ones the
 * application's listener has finished with, so after a crash the application sees again at most
 * what it handled since the last save: delivery across a process restart is at-least-once from
 * the saved position (exactly-once holds within one client's lifetime).
 */
public interface OffsetStore {

    /** The last position saved for {@code channel}, or null. */
    StreamPosition load(String channel);

    /** Remembers that the application handled {@code channel} up to {@code position}. */
    void save(String channel, StreamPosition position);

    /** The last session token saved, or null. */
    String loadSession();

    /** Remembers the session token of the current connection. */
    void saveSession(String session);
}
