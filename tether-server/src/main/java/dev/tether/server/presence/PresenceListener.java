package dev.tether.server.presence;

/** Told about every join and leave of any node. Must not block. */
public interface PresenceListener {
    void joined(String channel, ClientInfo client);

    void left(String channel, ClientInfo client);
}
