package dev.tether.server.session;

import java.util.List;

/**
 * A detached session as stored between connections.
 *
 * @param id the resume token
 * @param client the client id, kept across resumes so presence does not change
 * @param subscriptions what to restore, each with the position to replay from
 */
public record SessionState(String id, String client, String user, String infoJson, List<SubscriptionState> subscriptions) {

    /**
     * @param delivered the offset up to which the client has everything: its last ack, or for a
     *     subscription never acknowledged the last offset written to its socket (best effort)
     * @param acked whether the client ever acknowledged on this subscription (turns on the window)
     */
    public record SubscriptionState(String channel, long delivered, String epoch, boolean presence, boolean acked) {
    }
}
