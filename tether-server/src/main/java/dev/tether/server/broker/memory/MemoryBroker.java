package dev.tether.server.broker.memory;

import dev.tether.server.broker.AppendListener;
import dev.tether.server.broker.Broker;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import dev.tether.server.util.DeadlineSweeper;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The embedded default broker: every channel log lives in this process's memory.
 *
 * <p>Limits: a single node; history is lost on restart (new epochs make that visible to clients);
 * memory grows with history size times channels in use. A channel whose history has fully aged out
 * and that nobody holds open for {@code idleRelease} is dropped, and comes back in a new epoch.
 *
 * <p>The sweep is not periodic ({@link DeadlineSweeper}): each one is scheduled for the earliest
 * deadline of any stream (its oldest publication leaving the history age, its oldest idempotency
 * key expiring, or its idle release); appends and closed handles that bring a deadline forward
 * move it earlier. An idle broker's sweeper thread sleeps. Sweeps are at least
 * {@link #MIN_SWEEP_GAP_MILLIS} apart, as the old periodic sweep was.
 */
public final class MemoryBroker implements Broker {
    /** The default of {@code dedup-max-keys}. */
    public static final int DEFAULT_MAX_KEYS = 1_000_000;
    static final long MIN_SWEEP_GAP_MILLIS = 1_000;
    static final long MAX_SLEEP_MILLIS = 30_000;

    /** Owner: this broker; entries are added by open() and removed by the sweeper, both via compute. */
    private final ConcurrentHashMap<String, MemoryStream> streams = new ConcurrentHashMap<>();
    private final Function<String, HistoryPolicy> historyPolicy;
    private final Duration dedupWindow;
    private final int maxKeysPerChannel;
    /** Idempotency keys remembered over all streams; streams add and remove under their own monitor. */
    private final LongAdder keys = new LongAdder();
    private final Duration idleRelease;
    private final Clock clock;
    private final DeadlineSweeper sweeper;
    private volatile AppendListener listener = (channel, top) -> { };

    /** With the default limit of idempotency keys per channel ({@link #DEFAULT_MAX_KEYS}). */
    public MemoryBroker(Function<String, HistoryPolicy> historyPolicy, Duration dedupWindow, Clock clock) {
        this(historyPolicy, dedupWindow, DEFAULT_MAX_KEYS, clock);
    }

    /**
     * @param maxKeysPerChannel idempotency keys one channel remembers at once; an append with a new
     *     key beyond that fails with {@link dev.tether.server.broker.KeyLimitException}
     */
    public MemoryBroker(Function<String, HistoryPolicy> historyPolicy, Duration dedupWindow, int maxKeysPerChannel,
                        Clock clock) {
        if (maxKeysPerChannel < 1) {
            throw new IllegalArgumentException("at least one key per channel, got " + maxKeysPerChannel);
        }
        this.historyPolicy = historyPolicy;
        this.dedupWindow = dedupWindow;
        this.maxKeysPerChannel = maxKeysPerChannel;
        this.clock = clock;
        this.idleRelease = dedupWindow.compareTo(Duration.ofMinutes(10)) > 0 ? dedupWindow : Duration.ofMinutes(10);
        this.sweeper = new DeadlineSweeper("tether-memory-sweeper", clock, MIN_SWEEP_GAP_MILLIS, MAX_SLEEP_MILLIS,
                this::sweep);
    }

    /** Makes sure a sweep runs no later than {@code atMillis}; streams call it outside their monitor. */
    void sweepAt(long atMillis) {
        sweeper.sweepAt(atMillis);
    }

    /** Whether a sweep is scheduled (none while no stream has anything to expire or release). */
    boolean sweepPending() {
        return sweeper.pending();
    }

    long idleReleaseMillis() {
        return idleRelease.toMillis();
    }

    @Override
    public ChannelStream open(String channel) {
        return streams.compute(channel, (name, s) -> {
            MemoryStream stream = s != null ? s : new MemoryStream(name, historyPolicy.apply(name), dedupWindow, maxKeysPerChannel,
                    clock, this);
            stream.retain();
            return stream;
        });
    }

    void keysAdded(int delta) {
        keys.add(delta);
    }

    @Override
    public long rememberedKeys() {
        return keys.sum();
    }

    void appended(String channel, long top) {
        listener.appended(channel, top);
    }

    @Override
    public void setListener(AppendListener listener) {
        this.listener = listener;
    }

    @Override
    public Map<String, Long> channels() {
        Map<String, Long> out = new TreeMap<>();
        streams.forEach((name, s) -> out.put(name, s.top()));
        return out;
    }

    /**
     * Applies age retention and releases idle channels; returns the earliest deadline left.
     * Runs on the sweeper thread.
     */
    long sweep() {
        long now = clock.millis();
        long next = Long.MAX_VALUE;
        for (MemoryStream s : streams.values()) {
            s.evictExpired(now);
            if (s.idleSince(now) >= idleRelease.toMillis()) {
                streams.computeIfPresent(s.channel(), (name, cur) -> cur.idleSince(now) >= idleRelease.toMillis() ? null : cur);
            } else {
                next = Math.min(next, s.nextDeadline(idleRelease.toMillis()));
            }
        }
        return next;
    }

    @Override
    public CompletableFuture<Void> flush() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        sweeper.close();
    }
}
