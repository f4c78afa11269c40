package dev.tether.server.hub;

import dev.tether.server.broker.ChannelStream;
import dev.tether.server.protocol.Fields;
import dev.tether.server.protocol.Gap;
import dev.tether.server.protocol.StreamPosition;

/**
 * Where a subscriber that last had {@code since} continues, and what it cannot get back.
 *
 * @param cursor the next offset to deliver
 * @param gap null when every missed publication is still in history
 */
record Recovery(long cursor, Gap gap) {

    boolean recovered() {
        return gap == null;
    }

    static Recovery of(ChannelStream stream, StreamPosition since) {
        long top = stream.top();
        if (!since.epoch().equals(stream.epoch())) {
            return new Recovery(top + 1, Gap.epoch());
        }
        if (since.offset() > top) {
            throw Fields.bad("since.offset " + since.offset() + " is beyond the channel's current offset " + top);
        }
        long want = since.offset() + 1;
        long first = stream.first();
        if (want >= first || want > top) {
            return new Recovery(want, null);
        }
        return new Recovery(first, Gap.retention(want, first - 1));
    }
}
