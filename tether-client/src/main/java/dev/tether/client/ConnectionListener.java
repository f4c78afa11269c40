package dev.tether.client;

/**
 * Told about a {@link TetherClient}'s connection. Every method has an empty default.
 *
 * <p>Calls for one client are serialized (never two at once, in the order the events happened)
 * and never run on a network thread; they run on the client's callback executor. A slow
 * listener delays only later connection events of this client, not message delivery.
 * {@link #onClosed} is terminal: no method of this listener is called after it.
 */
public interface ConnectionListener {

    /** The client moved from state {@code from} to state {@code to}. */
    default void onStateChanged(TetherClient.State from, TetherClient.State to) {
    }

    /**
     * A connection is established and usable. Called after {@code onStateChanged(…, CONNECTED)}.
     * Commands issued while disconnected are being sent now.
     */
    default void onConnected(ConnectedEvent event) {
    }

    /**
     * An established connection ended.
     *
     * @param code          the close code: the server's (4000-4999 with a reason, 1000-1011 for
     *                      plain WebSocket closes) or 1006 when the connection simply broke
     * @param reason        why, in words
     * @param willReconnect true if the client reconnects on its own; false if {@link #onClosed}
     *                      follows
     */
    default void onDisconnected(int code, String reason, boolean willReconnect) {
    }

    /**
     * The client is closed for good: by {@link TetherClient#close()} or
     * {@link TetherClient#cancel()}, or because the server said not to come back (close codes
     * 4500-4999). No further calls follow.
     */
    default void onClosed(int code, String reason) {
    }
}
