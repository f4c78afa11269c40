package dev.tether.bench.loadgen;

import java.util.TreeSet;

/**
 * What one subscription has received, to count lost, duplicated and reordered publications.
 *
 * <p>Owner: the client's event loop.
 *
 * <p>Offsets of a channel arrive strictly ascending on one connection. An offset at or below the
 * last one seen is a duplicate if it came on the same connection, a reordered one if it fills a
 * gap seen earlier, and a redelivery if it is the replay a resume sends from the last ack (the
 * protocol's at-least-once replay, which a client filters out; not a fault).
 */
final class SubState {
    final int channelIndex;
    final String channel;
    final byte[] channelBytes;
    /** Offset the subscription started after (its subscribe result); -1 until subscribed. */
    long start = -1;
    String epoch = "";
    /** Highest offset received. */
    long last;
    /** Highest offset received before the current connection (resume replays up to here). */
    long lastBeforeReconnect;
    /** Last offset acknowledged to the server. */
    long acked;
    /** Top of the channel the resume result promised: recovered once {@link #last} reaches it. */
    long recoverTarget = -1;
    long unique;
    long duplicates;
    long reordered;
    long redelivered;
    long gapsOpen;
    /** Offsets skipped over, so a late arrival can be told apart from a duplicate; rarely used. */
    private TreeSet<Long> missing;

    SubState(int channelIndex, String channel) {
        this.channelIndex = channelIndex;
        this.channel = channel;
        this.channelBytes = Scan.ascii(channel);
    }

    void subscribed(long offset, String epoch) {
        if (start < 0) {
            start = offset;
            last = offset;
            acked = offset;
            lastBeforeReconnect = offset;
        }
        this.epoch = epoch;
    }

    void onReconnect() {
        lastBeforeReconnect = last;
    }

    /** Records one delivered offset. */
    void receive(long offset) {
        if (offset == last + 1) {
            unique++;
            last = offset;
        } else if (offset > last) {
            if (missing == null) {
                missing = new TreeSet<>();
            }
            for (long o = last + 1; o < offset && missing.size() < 1_000_000; o++) {
                missing.add(o);
            }
            gapsOpen += offset - last - 1;
            unique++;
            last = offset;
        } else if (missing != null && missing.remove(offset)) {
            reordered++;
            unique++;
            gapsOpen--;
        } else if (offset <= lastBeforeReconnect) {
            redelivered++;
        } else if (offset > start) {
            duplicates++;
        }
    }

    /** Publications expected up to {@code top} that never arrived. */
    long lost(long top) {
        if (start < 0) {
            return 0;
        }
        return Math.max(0, top - start - unique);
    }

    boolean recovered() {
        return recoverTarget < 0 || last >= recoverTarget;
    }
}
