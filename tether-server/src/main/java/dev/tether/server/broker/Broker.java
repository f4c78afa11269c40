package dev.tether.server.broker;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The storage and live-delivery seam: channel logs with offsets, epochs, history and idempotency
 * keys (see {@link ChannelStream} for the per-channel contract).
 *
 * <p>The hub never keeps a queue per subscriber: a subscriber is a position in a {@link ChannelStream}
 * plus a socket. The broker only has to tell the hub that a channel moved ({@link AppendListener});
 * each subscriber then reads forward from its own position. This makes the switch from history to
 * live delivery atomic by construction and bounds memory for slow consumers.
 *
 * <p>Backends: {@code memory} (the embedded default, one node, history lost on restart, which the
 * epoch makes visible). Durable and Redis backends implement the same interface.
 */
public interface Broker extends AutoCloseable {

    /** Opens the channel's stream, creating the channel if needed. The caller closes the handle. */
    ChannelStream open(String channel);

    /** Sets the one node-local listener told about every append. */
    void setListener(AppendListener listener);

    /** Channels that currently have history or open handles, with their top offsets. */
    Map<String, Long> channels();

    /** Idempotency keys remembered over all channels (for the metrics); -1 when the backend cannot tell. */
    default long rememberedKeys() {
        return -1;
    }

    /** Bytes the stored channels keep alive (history, keys, the channels), for the metrics; -1 when unknown. */
    default long memoryBytes() {
        return -1;
    }

    /** The limit on {@link #memoryBytes()} ({@code history-memory}); -1 when none. */
    default long memoryLimit() {
        return -1;
    }

    /** Of {@link #memoryBytes()}, the idempotency keys; -1 when unknown. */
    default long keyMemoryBytes() {
        return -1;
    }

    /** Publications that left history before their size or age said so, to stay within the memory limit. */
    default long publicationsEvictedForMemory() {
        return 0;
    }

    /** Channels without subscribers or history dropped before their idle time, to stay within the memory limit. */
    default long channelsReleasedForMemory() {
        return 0;
    }

    /** Completes when everything already acknowledged to publishers is durable as promised. */
    CompletableFuture<Void> flush();

    @Override
    void close();
}
