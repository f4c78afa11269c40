package dev.tether.client;

import java.util.concurrent.CompletableFuture;

/**
 * A subscription to one channel, kept across reconnects until {@link #unsubscribe()}. Thread-safe.
 */
public interface Subscription {

    /** The channel. */
    String channel();

    /**
     * The position of the last publication the listener finished handling (its
     * {@code onPublication} returned), or where the subscription started when none has been
     * delivered yet; null before the server first confirmed the subscription. Saving it and
     * passing it as {@code since} later continues exactly after it.
     */
    StreamPosition position();

    /**
     * Ends the subscription. No listener call starts after this returns; the server is told as
     * soon as a connection is up.
     *
     * @return completes when the server confirmed, when the connection is lost before it did, or
     *         at once if there is no connection
     */
    CompletableFuture<Void> unsubscribe();
}
