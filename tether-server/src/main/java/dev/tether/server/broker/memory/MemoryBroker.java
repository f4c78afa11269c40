package dev.tether.server.broker.memory;

import dev.tether.server.broker.AppendListener;
import dev.tether.server.broker.Broker;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The embedded default broker: every channel log lives in this process's memory.
 *
 * <p>Limits: a single node; history is lost on restart (new epochs make that visible to clients);
 * memory grows with history size times channels in use. A channel whose history has fully aged out
 * and that nobody holds open for {@code idleRelease} is dropped, and comes back in a new epoch.
 */
public final class MemoryBroker implements Broker {
    private static final Duration SWEEP_INTERVAL = Duration.ofSeconds(1);

    /** Owner: this broker; entries are added by open() and removed by the sweeper, both via compute. */
    private final ConcurrentHashMap<String, MemoryStream> streams = new ConcurrentHashMap<>();
    private final Function<String, HistoryPolicy> historyPolicy;
    private final Duration dedupWindow;
    private final Duration idleRelease;
    private final Clock clock;
    private final ScheduledExecutorService sweeper;
    private volatile AppendListener listener = (channel, top) -> { };

    public MemoryBroker(Function<String, HistoryPolicy> historyPolicy, Duration dedupWindow, Clock clock) {
        this.historyPolicy = historyPolicy;
        this.dedupWindow = dedupWindow;
        this.clock = clock;
        this.idleRelease = dedupWindow.compareTo(Duration.ofMinutes(10)) > 0 ? dedupWindow : Duration.ofMinutes(10);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tether-memory-sweeper");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_INTERVAL.toMillis(), SWEEP_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public ChannelStream open(String channel) {
        return streams.compute(channel, (name, s) -> {
            MemoryStream stream = s != null ? s : new MemoryStream(name, historyPolicy.apply(name), dedupWindow, clock, this);
            stream.retain();
            return stream;
        });
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

    /** Applies age retention and releases idle channels. Runs on the sweeper thread. */
    void sweep() {
        long now = clock.millis();
        for (MemoryStream s : streams.values()) {
            s.evictExpired(now);
            if (s.idleSince(now) >= idleRelease.toMillis()) {
                streams.computeIfPresent(s.channel(), (name, cur) -> cur.idleSince(now) >= idleRelease.toMillis() ? null : cur);
            }
        }
    }

    @Override
    public CompletableFuture<Void> flush() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
