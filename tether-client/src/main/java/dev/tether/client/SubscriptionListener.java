package dev.tether.client;

/**
 * Receives one subscription's publications and events. Only {@link #onPublication} must be
 * implemented.
 *
 * <p>Calls for one subscription are serialized and in order: never two at once, publications
 * in ascending offset order, each publication exactly once, with {@link #onGap} exactly where
 * publications are missing. They run on the client's callback executor, never on a network
 * thread. A listener may block; the server then holds back this subscription's publications
 * (the client acknowledges only what listeners have finished), and other subscriptions go on.
 * An exception thrown by a listener is logged and does not stop delivery.
 */
@FunctionalInterface
public interface SubscriptionListener {

    /** The next publication of the channel. */
    void onPublication(Publication publication);

    /**
     * Publications {@code from..to} (inclusive) will never be delivered; reload them with
     * {@link TetherClient#history} if needed.
     *
     * @param reason {@link Gap#RETENTION} (older than the server's history; from/to are exact)
     *               or {@link Gap#EPOCH} (the channel's history was lost or reset; from/to are -1
     *               and delivery continues live in the new epoch)
     */
    default void onGap(String channel, long from, long to, String reason) {
    }

    /** The server confirmed the subscription (again). */
    default void onSubscribed(SubscribedEvent event) {
    }

    /** A client joined the channel (only with {@link SubscribeOptions#presence(boolean) presence}). */
    default void onJoin(ClientInfo client) {
    }

    /** A client left the channel (only with {@link SubscribeOptions#presence(boolean) presence}). */
    default void onLeave(ClientInfo client) {
    }

    /**
     * The server refused the subscription for good (permission denied, invalid channel, too
     * many subscriptions…). The subscription is over: no further calls follow.
     *
     * @param error the server's error, with its code (101, 103, 106, …)
     */
    default void onError(TetherException error) {
    }
}
