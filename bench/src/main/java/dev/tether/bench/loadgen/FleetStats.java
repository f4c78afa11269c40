package dev.tether.bench.loadgen;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Counters and histograms of one generator process, written from every event loop (LongAdder and
 * HdrHistogram {@link Recorder}s are wait-free for writers) and read by the scenario driver.
 */
public final class FleetStats {
    /** Latency histograms hold 1 µs to 1 h with 3 significant digits. */
    static final long MAX_MICROS = 3_600_000_000L;

    public final LongAdder connectAttempts = new LongAdder();
    public final LongAdder connectFailures = new LongAdder();
    public final LongAdder handshakes = new LongAdder();
    public final LongAdder sessions = new LongAdder();
    /** Clients whose every subscription succeeded. */
    public final LongAdder subscribed = new LongAdder();
    public final LongAdder subscribeErrors = new LongAdder();
    /** Connections that closed without the generator asking (server close, reset, timeout). */
    public final LongAdder dropped = new LongAdder();
    public final LongAdder pings = new LongAdder();
    public final LongAdder acksSent = new LongAdder();
    public final LongAdder deliveries = new LongAdder();
    public final LongAdder frames = new LongAdder();
    public final LongAdder unparsed = new LongAdder();
    public final LongAdder errorReplies = new LongAdder();
    public final LongAdder published = new LongAdder();
    public final LongAdder publishReplies = new LongAdder();
    public final LongAdder duplicateReplies = new LongAdder();
    public final LongAdder resumed = new LongAdder();
    public final LongAdder notResumed = new LongAdder();
    /** Storm: clients that got back everything they missed after a cut. */
    public final LongAdder recovered = new LongAdder();
    public final LongAdder reconnectGiveUps = new LongAdder();
    private final Map<Integer, LongAdder> disconnectCodes = new ConcurrentHashMap<>();

    /** End-to-end latency of deliveries, µs (publisher's send to subscriber's receipt). */
    public final Recorder latency = new Recorder(1, MAX_MICROS, 3);
    /** Publish reply latency, µs (publisher's send to the reply). */
    public final Recorder publishLatency = new Recorder(1, MAX_MICROS, 3);
    /** Storm: ms from the cut to a client's resumed connect result. */
    public final Recorder resumeMillis = new Recorder(1, MAX_MICROS, 3);
    /** Storm: ms from the cut to a client having everything it missed. */
    public final Recorder recoverMillis = new Recorder(1, MAX_MICROS, 3);
    /** Storm: ms from the cut to each reconnect attempt (how evenly they spread). */
    public final Recorder reconnectAtMillis = new Recorder(1, MAX_MICROS, 3);
    /**
     * Storm: ms each first reconnect attempt started after the time it was scheduled for. Large
     * values mean the generator's event loops were too busy to keep the schedule, so the spread
     * above says more about the generator than about the clients it stands for.
     */
    public final Recorder reconnectLateMillis = new Recorder(1, MAX_MICROS, 3);

    void disconnect(int code) {
        disconnectCodes.computeIfAbsent(code, c -> new LongAdder()).increment();
    }

    public Map<Integer, Long> disconnectCodes() {
        Map<Integer, Long> out = new TreeMap<>();
        disconnectCodes.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
