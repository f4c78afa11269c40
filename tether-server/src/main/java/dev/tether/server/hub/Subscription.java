package dev.tether.server.hub;

import dev.tether.server.broker.ChannelStream;

/**
 * One connection's subscription to one channel: a position in the channel's log plus the socket
 * of {@link #connection}. There is no queue: delivery reads forward from {@link #cursor}.
 *
 * <p>Owner: the connection's event loop. Every mutable field is read and written only there.
 */
final class Subscription {
    final String channel;
    final ChannelStream stream;
    final Connection connection;
    final boolean presence;

    /** Next offset to write to the socket. */
    long cursor;
    /** Last offset written to the socket. */
    long written;
    /** Last offset the client acknowledged (cumulative). */
    long acked;
    /** True once the client acknowledged on this subscription: from then on the window applies. */
    boolean ackSeen;
    /** False once unsubscribed or the connection let go of it; fan-out skips it. */
    boolean active = true;
    /** Index in the channel's {@link ChannelFanout.LoopGroup}; -1 when not in one. */
    int fanoutSlot = -1;

    Subscription(String channel, ChannelStream stream, Connection connection, boolean presence, long cursor) {
        this.channel = channel;
        this.stream = stream;
        this.connection = connection;
        this.presence = presence;
        this.cursor = cursor;
        this.written = cursor - 1;
    }

    /** What the client is known (acked) or assumed (written) to have received. */
    long delivered() {
        return ackSeen ? acked : written;
    }
}
