package dev.tether.client;

/**
 * How a subscription came back after a connection was (re)established.
 *
 * @param channel   the channel
 * @param position  the channel's current offset and epoch when the server confirmed the subscription
 * @param resumed   true if the server restored it with the session; false if the client
 *                  subscribed again
 * @param recovered true if every publication missed while away is coming (or nothing was missed)
 * @param gap       null when recovered; otherwise what will never arrive (also reported to
 *                  {@link SubscriptionListener#onGap})
 */
public record SubscriptionRecovery(String channel, StreamPosition position, boolean resumed, boolean recovered, Gap gap) {
}
