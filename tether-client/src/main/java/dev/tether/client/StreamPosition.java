package dev.tether.client;

import java.util.Objects;

/**
 * A place in a channel's history: an offset together with the epoch it belongs to.
 *
 * <p>Offsets count a channel's publications 1, 2, 3, … with no gaps. The epoch names one
 * continuous history: when the server loses or resets a channel's history (an in-memory server
 * restarting, for example) the epoch changes, and offsets of the old epoch mean nothing in the
 * new one. Example: a client that last saw {@code (41, "e-7c1")} and subscribes with that as
 * {@code since} gets offsets 42, 43, … if the channel is still in epoch {@code e-7c1}; if the
 * epoch is now {@code e-9f2} it gets an {@code epoch} gap instead and starts live.
 *
 * @param offset the offset of a publication, or the channel's offset before any publication (0)
 * @param epoch  the channel's epoch, never null
 */
public record StreamPosition(long offset, String epoch) {

    /** Checks that {@code epoch} is set and {@code offset} is not negative. */
    public StreamPosition {
        Objects.requireNonNull(epoch, "epoch");
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
    }

    @Override
    public String toString() {
        return offset + ":" + epoch;
    }
}
