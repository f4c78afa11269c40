package dev.tether.client;

/**
 * The server confirmed a subscription: on the first subscribe, on every re-subscribe after a
 * lost session, and on every resume that restored it.
 *
 * @param channel   the channel
 * @param position  where delivery continues from: publications after this position reach
 *                  {@link SubscriptionListener#onPublication} (after any still queued)
 * @param resumed   true if the server restored the subscription with the session
 * @param recovered true if nothing was missed; false if {@link SubscriptionListener#onGap} is
 *                  called right after this
 */
public record SubscribedEvent(String channel, StreamPosition position, boolean resumed, boolean recovered) {
}
