package dev.tether.client;

import java.util.List;

/**
 * A connection was established (first connect or reconnect).
 *
 * @param client        the client id; stays the same across resumes
 * @param session       the session id (resume token)
 * @param user          the user the server authenticated, {@code ""} when anonymous
 * @param resumed       true if the server resumed the previous session: its subscriptions were
 *                      restored and missed publications are being replayed
 * @param subscriptions for a resumed session, how each restored subscription recovered; empty
 *                      otherwise (subscriptions made again report through
 *                      {@link SubscriptionListener#onSubscribed})
 */
public record ConnectedEvent(String client, String session, String user, boolean resumed, List<SubscriptionRecovery> subscriptions) {

    /** Copies {@code subscriptions}. */
    public ConnectedEvent {
        subscriptions = List.copyOf(subscriptions);
    }
}
