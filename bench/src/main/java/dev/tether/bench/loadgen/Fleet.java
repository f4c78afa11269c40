package dev.tether.bench.loadgen;

import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The subscriber connections of a run, in this process ({@link LocalFleet}), in a worker process
 * ({@link RemoteFleet}) or both ({@link MultiFleet}): the driver sees one fleet either way.
 */
public interface Fleet extends AutoCloseable {

    /** Starts opening the subscriber connections at the spec's bounded rate; returns at once. */
    void open();

    Counts counts();

    /** End-to-end latency recorded since the last call (µs). */
    Histogram takeLatency();

    /**
     * Waits (at most {@code timeoutMillis}) until every subscription has received its channel's
     * offset in {@code tops}, then counts what is missing, duplicated or out of order.
     */
    Verify verify(long[] tops, long timeoutMillis);

    /** Resets every subscriber connection at once; each comes back after a random delay in [0, spread]. */
    void cut(long spreadMillis);

    Storm takeStorm();

    /** CPU time this process has used, in clock ticks (1/100 s). */
    long cpuTicks();

    @Override
    void close();

    /** Counters summed over the fleet. */
    record Counts(long attempts, long failures, long handshakes, long sessions, long subscribed, long subscribeErrors,
                  long dropped, long pings, long acks, long deliveries, long frames, long unparsed, long errorReplies,
                  long resumed, long notResumed, long recovered, long giveUps, long cpuTicks,
                  Map<Integer, Long> disconnects) {

        public Counts plus(Counts o) {
            Map<Integer, Long> d = new TreeMap<>(disconnects);
            o.disconnects.forEach((k, v) -> d.merge(k, v, Long::sum));
            return new Counts(attempts + o.attempts, failures + o.failures, handshakes + o.handshakes,
                    sessions + o.sessions, subscribed + o.subscribed, subscribeErrors + o.subscribeErrors,
                    dropped + o.dropped, pings + o.pings, acks + o.acks, deliveries + o.deliveries, frames + o.frames,
                    unparsed + o.unparsed, errorReplies + o.errorReplies, resumed + o.resumed,
                    notResumed + o.notResumed, recovered + o.recovered, giveUps + o.giveUps, cpuTicks + o.cpuTicks, d);
        }
    }

    /** Delivery check over all subscriptions. */
    record Verify(long subscriptions, long lost, long duplicates, long reordered, long redelivered, long notDrained) {
        public Verify plus(Verify o) {
            return new Verify(subscriptions + o.subscriptions, lost + o.lost, duplicates + o.duplicates,
                    reordered + o.reordered, redelivered + o.redelivered, notDrained + o.notDrained);
        }
    }

    /**
     * Reconnect-storm figures: ms after the cut, except {@code reconnectLate}: ms each first
     * reconnect attempt started after its scheduled time.
     */
    record Storm(Histogram reconnectAt, Histogram reconnectLate, Histogram resumed, Histogram recovered,
                 long clientsRecovered) {
        public Storm plus(Storm o) {
            Histogram a = reconnectAt.copy();
            a.add(o.reconnectAt);
            Histogram l = reconnectLate.copy();
            l.add(o.reconnectLate);
            Histogram b = resumed.copy();
            b.add(o.resumed);
            Histogram c = recovered.copy();
            c.add(o.recovered);
            return new Storm(a, l, b, c, clientsRecovered + o.clientsRecovered);
        }
    }
}
