package dev.tether.client;

/**
 * The exactly-once filter of one subscription: remembers the last offset received (in the
 * subscription's current epoch) and judges each incoming publication. Loop only.
 */
final class Dedupe {

    enum Verdict {
        /** The next offset: deliver it. */
        DELIVER,
        /** At or below the last one received (a replay after a resume): drop it. */
        DUPLICATE,
        /** Beyond the next offset: something in between is missing; subscribe again from {@link #last()}. */
        HOLE
    }

    /** Null until the server first confirmed the subscription. */
    private StreamPosition last;

    /** The subscription (re)starts after {@code position}. */
    void reset(StreamPosition position) {
        last = position;
    }

    /** The last position received, or null before the subscription was first confirmed. */
    StreamPosition last() {
        return last;
    }

    /** Judges offset {@code offset}; on {@link Verdict#DELIVER} it becomes the last one. */
    Verdict offer(long offset) {
        if (last == null || offset > last.offset() + 1) {
            return Verdict.HOLE;
        }
        if (offset <= last.offset()) {
            return Verdict.DUPLICATE;
        }
        last = new StreamPosition(offset, last.epoch());
        return Verdict.DELIVER;
    }
}
