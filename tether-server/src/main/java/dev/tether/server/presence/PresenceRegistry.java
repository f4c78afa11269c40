package dev.tether.server.presence;

import java.util.List;

/**
 * Who is in which channel.
 *
 * <p>Contract: {@link #join} and {@link #leave} are idempotent and tell the listener only about
 * real changes (a second join of the same client is silent), so a resumed connection re-joining
 * its channels produces no {@code join} and never a flapping {@code leave}/{@code join} pair.
 */
public interface PresenceRegistry {

    /** Adds the client; returns true (and tells the listener) when it was not present. */
    boolean join(String channel, ClientInfo client);

    /** Removes the client; returns true (and tells the listener) when it was present. */
    boolean leave(String channel, String clientId);

    List<ClientInfo> list(String channel);

    void setListener(PresenceListener listener);
}
