package dev.tether.client;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides when one subscription sends its cumulative {@code ack}: as soon as {@code window/2}
 * publications were handled since the last ack, otherwise on the next tick (every
 * {@link #INTERVAL_MILLIS}) while something handled is unacknowledged (protocol section 7).
 * Only what the listener has finished is acknowledged, so a slow listener makes the server hold
 * back (its window fills) instead of queueing without bound here.
 *
 * <p>Threads: {@link #handled()} runs on the subscription's serial executor; everything else on
 * the client's event loop.
 */
final class AckBatcher {
    /** The longest a handled publication waits for its ack (the protocol asks for 200 ms). */
    static final long INTERVAL_MILLIS = 200;

    /** Publications handled since the last ack; incremented by the executor, reset by the loop. */
    private final AtomicInteger unacked = new AtomicInteger();
    /** True from the executor asking for an early flush until the loop did it. */
    private final AtomicBoolean flushRequested = new AtomicBoolean();
    /** {@code window/2} from the current connect result; written by the loop. */
    private volatile int threshold = 512;
    /** The last position acknowledged on the current subscription. Loop only. */
    private StreamPosition acked;

    /** Loop: the {@code window} of the current connection. */
    void window(int window) {
        threshold = Math.max(1, window / 2);
    }

    /**
     * Executor: the listener finished one more publication.
     *
     * @return true if the loop should flush now (at most once until it did)
     */
    boolean handled() {
        return unacked.incrementAndGet() >= threshold && flushRequested.compareAndSet(false, true);
    }

    /**
     * Loop: the position to acknowledge now, or null if nothing new was handled in the
     * subscription's current {@code epoch}.
     */
    StreamPosition due(StreamPosition handled, String epoch) {
        flushRequested.set(false);
        if (handled == null || !handled.epoch().equals(epoch)) {
            return null;
        }
        if (acked != null && acked.epoch().equals(epoch) && handled.offset() <= acked.offset()) {
            return null;
        }
        acked = handled;
        unacked.set(0);
        return handled;
    }

    /** Loop: an ack for {@code position} was sent right after the subscription was confirmed. */
    void sent(StreamPosition position) {
        acked = position;
    }
}
