package dev.tether.server.broker.memory;

import dev.tether.server.broker.AppendListener;
import dev.tether.server.broker.Broker;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import dev.tether.server.util.DeadlineSweeper;
import dev.tether.server.util.WarningThrottle;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * move it earlier. An idle broker's sweeper thread sleeps. Sweeps for deadlines are at least
 * {@link #MIN_SWEEP_GAP_MILLIS} apart, as the old periodic sweep was; a trim for the memory limit
 * (below) runs as soon as an append asks for it.
 *
 * <p>Memory is bounded over all channels ({@code history-memory}): every stream counts what it keeps
 * alive in {@link #memoryBytes()}. When an append takes the total over the limit, the sweeper trims
 * at once, down to nine tenths of the limit: channels holding nothing but themselves are dropped,
 * then the oldest publications of all channels leave history, oldest first whatever their channel,
 * then channels that this emptied and nobody holds are dropped. Idempotency keys cannot leave early
 * (a resend would be stored twice): once they fill half the limit a new key is refused (checked
 * before each new key, so a key table that grows by doubling can take them past half). Publications younger than {@link #MIN_TRIM_AGE_MILLIS} are never trimmed (their live
 * delivery may still be on its way), so the total can pass the limit by what is appended in that time
 * and while a trim runs. That only matters when the limit holds less than that much history.
 */
public final class MemoryBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(MemoryBroker.class);
    /** The default of {@code dedup-max-keys}. */
    public static final int DEFAULT_MAX_KEYS = 1_000_000;
    static final long MIN_SWEEP_GAP_MILLIS = 1_000;
    static final long MAX_SLEEP_MILLIS = 30_000;
    /** A publication this young never leaves history for the memory limit: its live delivery may still be on its way. */
    static final long MIN_TRIM_AGE_MILLIS = 100;

    /** Owner: this broker; entries are added by open() and removed by the sweeper, both via compute. */
    private final ConcurrentHashMap<String, MemoryStream> streams = new ConcurrentHashMap<>();
    private final Function<String, HistoryPolicy> historyPolicy;
    private final Duration dedupWindow;
    private final int maxKeysPerChannel;
    /** Idempotency keys remembered over all streams; streams add and remove under their own monitor. */
    private final LongAdder keys = new LongAdder();
    private final Duration idleRelease;
    private final long memoryLimit;
    /** Bytes all streams keep alive (see {@link MemoryStream}), and of that their key tables. */
    private final AtomicLong memory = new AtomicLong();
    private final AtomicLong keyMemory = new AtomicLong();
    private final LongAdder evictedForMemory = new LongAdder();
    private final LongAdder releasedForMemory = new LongAdder();
    /** No trim before this (clock millis): set after a trim that could not reach its target. */
    private volatile long trimNotBefore;
    /** The warning about trims: at most once a minute (it gives the numbers of the trim that logs it). */
    private final WarningThrottle trimWarning;
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
        this(historyPolicy, dedupWindow, maxKeysPerChannel, Long.MAX_VALUE, clock);
    }

    /**
     * @param memoryLimit bytes all channels together may keep alive ({@code history-memory}); see the
     *     class comment for what happens above it
     */
    public MemoryBroker(Function<String, HistoryPolicy> historyPolicy, Duration dedupWindow, int maxKeysPerChannel,
                        long memoryLimit, Clock clock) {
        if (maxKeysPerChannel < 1) {
            throw new IllegalArgumentException("at least one key per channel, got " + maxKeysPerChannel);
        }
        if (memoryLimit < 1) {
            throw new IllegalArgumentException("memory limit must be positive, got " + memoryLimit);
        }
        this.memoryLimit = memoryLimit;
        this.historyPolicy = historyPolicy;
        this.dedupWindow = dedupWindow;
        this.maxKeysPerChannel = maxKeysPerChannel;
        this.clock = clock;
        this.trimWarning = new WarningThrottle(Duration.ofMinutes(1), clock);
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
        boolean[] created = {false};
        ChannelStream opened = streams.compute(channel, (name, s) -> {
            MemoryStream stream = s;
            if (stream == null) {
                stream = new MemoryStream(name, historyPolicy.apply(name), dedupWindow, maxKeysPerChannel, clock, this);
                created[0] = true;
            }
            stream.retain();
            return stream;
        });
        if (created[0]) {
            // A new channel counts too: many reads of unknown names (history, presence) create many,
            // and the limit must see them now, not at the next periodic sweep.
            checkMemory();
        }
        return opened;
    }

    void keysAdded(int delta) {
        keys.add(delta);
    }

    /** A stream's share of the memory total changed; any thread, under that stream's monitor. */
    void memoryChanged(long delta) {
        memory.addAndGet(delta);
    }

    void keyMemoryChanged(long delta) {
        keyMemory.addAndGet(delta);
    }

    /** Whether key tables fill half the limit, so that no new key may be remembered. */
    boolean keyMemoryFull() {
        return keyMemory.get() >= memoryLimit / 2;
    }

    void evictedForMemory(int publications) {
        if (publications > 0) {
            evictedForMemory.add(publications);
        }
    }

    /** After an append, outside the stream's monitor: over the limit, the sweeper trims now. */
    void checkMemory() {
        if (memory.get() > memoryLimit) {
            long now = clock.millis();
            if (now >= trimNotBefore) {
                sweeper.sweepAt(now);
            }
        }
    }

    @Override
    public long memoryBytes() {
        return memory.get();
    }

    @Override
    public long memoryLimit() {
        return memoryLimit;
    }

    @Override
    public long keyMemoryBytes() {
        return keyMemory.get();
    }

    @Override
    public long publicationsEvictedForMemory() {
        return evictedForMemory.sum();
    }

    @Override
    public long channelsReleasedForMemory() {
        return releasedForMemory.sum();
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
     * Applies age retention, releases idle channels and, over the memory limit, trims; returns the
     * earliest deadline left. Runs on the sweeper thread.
     */
    long sweep() {
        long now = clock.millis();
        long next = Long.MAX_VALUE;
        long idle = idleRelease.toMillis();
        for (MemoryStream s : streams.values()) {
            s.evictExpired(now);
            if (s.idleSince(now) >= idle) {
                streams.computeIfPresent(s.channel(), (name, cur) -> cur.release(now, idle) ? null : cur);
            } else {
                next = Math.min(next, s.nextDeadline(idle));
            }
        }
        if (memory.get() > memoryLimit) {
            trim(now);
        }
        return next;
    }

    /** Brings the memory total down to nine tenths of the limit, losing as little as it can. Sweeper thread. */
    private void trim(long now) {
        long target = memoryLimit - memoryLimit / 10;
        long before = memory.get();
        long evictedBefore = evictedForMemory.sum();
        int released = releaseEmpty(now);
        // When the next trim may run: at once if this one reached the target (appends may have taken
        // the total up again since); when the young publications left are old enough (scheduled
        // here, in case no append comes); else (keys and subscribed channels hold the memory) not
        // before the minimum gap, or appends would make it spin.
        long retryIn = 0;
        long untrimmable = -1;
        if (memory.get() > target) {
            record Oldest(long timestamp, MemoryStream stream) { }
            PriorityQueue<Oldest> queue = new PriorityQueue<>(Comparator.comparingLong(Oldest::timestamp));
            long trimmable = 0;
            for (MemoryStream s : streams.values()) {
                long t = s.oldestTimestamp();
                if (t != Long.MAX_VALUE) {
                    queue.add(new Oldest(t, s));
                    trimmable += s.trimmableBytes();
                }
            }
            // Channels that are held and key tables alone may take more than the target: then no trim
            // can reach it, and trying again as soon as the young publications age would only burn CPU.
            untrimmable = memory.get() - trimmable;
            boolean reachable = untrimmable <= target;
            // Publications younger than this stay, so that live subscribers a moment behind still get them.
            long youngest = clock.millis() - MIN_TRIM_AGE_MILLIS;
            long over;
            while ((over = memory.get() - target) > 0 && !queue.isEmpty() && queue.peek().timestamp() <= youngest) {
                Oldest o = queue.poll();
                long until = queue.isEmpty() ? youngest : Math.min(youngest, queue.peek().timestamp());
                long freed = o.stream().trimForMemory(until, over);
                long t = o.stream().oldestTimestamp();
                // Back in the queue if it gave something or its snapshot was stale: each turn frees
                // memory or moves a channel's timestamp forward, towards youngest, so this ends.
                if (t != Long.MAX_VALUE && (freed > 0 || t > o.timestamp())) {
                    queue.add(new Oldest(t, o.stream()));
                }
            }
            if (over > 0 && !queue.isEmpty() && reachable) {
                // Only publications too young to trim are left: they will be old enough soon.
                retryIn = MIN_TRIM_AGE_MILLIS;
                sweeper.sweepAt(now + MIN_TRIM_AGE_MILLIS);
            } else if (over > 0) {
                retryIn = MIN_SWEEP_GAP_MILLIS;
            }
            released += releaseEmpty(now);
        }
        long after = memory.get();
        trimNotBefore = now + retryIn;
        long evicted = evictedForMemory.sum() - evictedBefore;
        long sinceWarning = evicted + released > 0 ? trimWarning.count(evicted + released) : 0;
        if (sinceWarning > 0) {
            log.warn("history-memory limit of {} bytes reached ({} in use): this trim took {} publications out of"
                            + " history early and dropped {} idle channels, now {} bytes ({} of them idempotency keys{});"
                            + " {} publications and channels in all since the last warning. Raise history-memory or"
                            + " lower history-size or history-age; logged at most once a minute,"
                            + " tether_history_memory_evictions_total counts every publication.",
                    memoryLimit, before, evicted, released, after, keyMemory.get(),
                    untrimmable > target ? "; channels in use and keys alone take " + untrimmable
                            + " bytes, more than a trim can get below" : "", sinceWarning);
        }
    }

    /** When the next trim may run at the earliest (clock millis); tests. */
    long trimNotBefore() {
        return trimNotBefore;
    }

    /** Drops every channel that holds nothing but itself: no handle, no history, no key. */
    private int releaseEmpty(long now) {
        int[] released = {0};
        for (MemoryStream s : streams.values()) {
            if (s.releasable()) {
                streams.computeIfPresent(s.channel(), (name, cur) -> {
                    if (cur.release(now, 0)) {
                        released[0]++;
                        return null;
                    }
                    return cur;
                });
            }
        }
        releasedForMemory.add(released[0]);
        return released[0];
    }

    /** Tests: what one stream should count, recomputed from scratch ({@link MemoryStream#recountBytes}). */
    long recountedBytes(String channel) {
        MemoryStream s = streams.get(channel);
        return s == null ? 0 : s.recountBytes();
    }

    /** Bytes one stream counts in the total; tests. */
    long accountedBytes(String channel) {
        MemoryStream s = streams.get(channel);
        return s == null ? 0 : s.accountedBytes();
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
