package dev.tether.bench.loadgen;

import dev.tether.bench.server.ProcStats;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.ToLongFunction;
import org.HdrHistogram.Histogram;

/**
 * The generator's connections in this process: a few event loops (epoll when available), each
 * holding thousands of {@link BenchClient}s, opened at a bounded rate from loopback source
 * addresses 127.0.0.1-127.0.0.250 so the run is not limited to one address's ephemeral ports.
 */
public final class LocalFleet implements Fleet {
    private static final long PACER_TICK_MILLIS = 10;
    private static final int CONNECT_TIMEOUT_MILLIS = 15_000;
    private static final long QUERY_TIMEOUT_SECONDS = 30;

    final FleetSpec spec;
    final FleetStats stats = new FleetStats();
    final URI uri;
    final InetSocketAddress remote;
    final String[] channelNames;
    /** Highest offset each channel's publishers were told; written from publisher loops. */
    final AtomicLongArray tops;
    volatile boolean closing;
    private final boolean epoll;
    private final EventLoopGroup group;
    private final EventLoop[] loops;
    private final List<List<BenchClient>> perLoop = new ArrayList<>();
    private final List<BenchClient> subscribers = new ArrayList<>();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private final Bootstrap base;

    public LocalFleet(FleetSpec spec) {
        this.spec = spec;
        this.uri = URI.create(spec.url());
        if (!"127.0.0.1".equals(uri.getHost()) && !"localhost".equals(uri.getHost())) {
            throw new IllegalArgumentException("the generator only sends traffic to 127.0.0.1, not " + uri.getHost());
        }
        this.remote = new InetSocketAddress("127.0.0.1", uri.getPort());
        this.epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(spec.clientThreads(),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        List<EventLoop> l = new ArrayList<>();
        for (EventExecutor e : group) {
            l.add((EventLoop) e);
            perLoop.add(new ArrayList<>());
        }
        this.loops = l.toArray(EventLoop[]::new);
        this.channelNames = new String[spec.channels()];
        for (int i = 0; i < channelNames.length; i++) {
            channelNames[i] = spec.channelName(i);
        }
        this.tops = new AtomicLongArray(spec.channels());
        this.base = new Bootstrap()
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
        for (int k = 0; k < spec.subscribers(); k++) {
            int i = spec.firstClient() + k;
            SubState[] subs = new SubState[spec.subsPerClient()];
            for (int j = 0; j < subs.length; j++) {
                int ch = (int) (((long) i * spec.subsPerClient() + j) % spec.channels());
                subs[j] = new SubState(ch, channelNames[ch]);
            }
            subscribers.add(newClient(i, subs));
        }
    }

    private BenchClient newClient(int i, SubState[] subs) {
        int l = Math.floorMod(i, loops.length);
        InetSocketAddress local = new InetSocketAddress("127.0.0." + (1 + Math.floorMod(i, spec.sourceAddrs())), 0);
        BenchClient c = new BenchClient(this, i, loops[l], local, subs);
        List<BenchClient> mine = perLoop.get(l);
        // The per-loop lists belong to their loops: added to there, read there.
        loops[l].execute(() -> mine.add(c));
        return c;
    }

    /** Adds a publisher connection (no subscriptions) and connects it now. Any time. */
    public Publisher addPublisher(int index, Publisher.Plan plan) {
        BenchClient c = newClient(index, new SubState[0]);
        c.publisher = new Publisher(c, this, plan);
        c.loop.execute(c::connect);
        return c.publisher;
    }

    public boolean epoll() {
        return epoll;
    }

    public FleetStats stats() {
        return stats;
    }

    ByteBufAllocator alloc() {
        return ByteBufAllocator.DEFAULT;
    }

    Bootstrap bootstrap(EventLoop loop, BenchClient client) {
        return base.clone(loop).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024), client);
            }
        });
    }

    /** Starts the subscribers' connections at the spec's rate. */
    @Override
    public void open() {
        if (spec.ackIntervalMillis() > 0) {
            for (int l = 0; l < loops.length; l++) {
                List<BenchClient> mine = perLoop.get(l);
                timers.add(loops[l].scheduleAtFixedRate(() -> mine.forEach(BenchClient::ackIfDue),
                        spec.ackIntervalMillis(), spec.ackIntervalMillis(), TimeUnit.MILLISECONDS));
            }
        }
        long[] next = {0};
        double[] credit = {0};
        double perTick = spec.connectRate() * PACER_TICK_MILLIS / 1000.0;
        ScheduledFuture<?>[] self = new ScheduledFuture<?>[1];
        self[0] = loops[0].scheduleAtFixedRate(() -> {
            credit[0] = Math.min(credit[0] + perTick, Math.max(1, perTick));
            long inFlight = stats.connectAttempts.sum() - stats.handshakes.sum() - stats.connectFailures.sum();
            while (credit[0] >= 1 && next[0] < subscribers.size() && inFlight < spec.maxConnecting() && !closing) {
                BenchClient c = subscribers.get((int) next[0]++);
                c.loop.execute(c::connect);
                credit[0]--;
                inFlight++;
            }
            if (next[0] >= subscribers.size() || closing) {
                self[0].cancel(false);
            }
        }, 0, PACER_TICK_MILLIS, TimeUnit.MILLISECONDS);
        timers.add(self[0]);
    }

    /** Sums {@code f} over every client, each read on its own event loop. */
    public long sum(ToLongFunction<BenchClient> f) {
        List<Future<Long>> parts = new ArrayList<>();
        for (int l = 0; l < loops.length; l++) {
            List<BenchClient> mine = perLoop.get(l);
            parts.add(loops[l].submit(() -> {
                long n = 0;
                for (BenchClient c : mine) {
                    n += f.applyAsLong(c);
                }
                return n;
            }));
        }
        long total = 0;
        for (Future<Long> p : parts) {
            if (!p.awaitUninterruptibly(QUERY_TIMEOUT_SECONDS, TimeUnit.SECONDS) || !p.isSuccess()) {
                throw new IllegalStateException("event loop did not answer within " + QUERY_TIMEOUT_SECONDS + " s");
            }
            total += p.getNow();
        }
        return total;
    }

    @Override
    public Counts counts() {
        FleetStats s = stats;
        return new Counts(s.connectAttempts.sum(), s.connectFailures.sum(), s.handshakes.sum(), s.sessions.sum(),
                s.subscribed.sum(), s.subscribeErrors.sum(), s.dropped.sum(), s.pings.sum(), s.acksSent.sum(),
                s.deliveries.sum(), s.frames.sum(), s.unparsed.sum(), s.errorReplies.sum(), s.resumed.sum(),
                s.notResumed.sum(), s.recovered.sum(), s.reconnectGiveUps.sum(), cpuTicks(), s.disconnectCodes());
    }

    @Override
    public Histogram takeLatency() {
        return stats.latency.getIntervalHistogram();
    }

    @Override
    public Verify verify(long[] top, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long behind;
        do {
            behind = sum(c -> countBehind(c, top));
            if (behind == 0) {
                break;
            }
            pause(50);
        } while (System.nanoTime() - deadline < 0);
        long notDrained = behind;
        return new Verify(
                sum(c -> count(c, s -> s.start >= 0 ? 1 : 0)),
                sum(c -> count(c, s -> s.lost(top[s.channelIndex]))),
                sum(c -> count(c, s -> s.duplicates)),
                sum(c -> count(c, s -> s.reordered)),
                sum(c -> count(c, s -> s.redelivered)),
                notDrained);
    }

    private static long countBehind(BenchClient c, long[] top) {
        if (c.state != BenchClient.State.READY) {
            return 0;
        }
        long n = 0;
        for (SubState s : c.subs) {
            if (s.start >= 0 && s.last < top[s.channelIndex]) {
                n++;
            }
        }
        return n;
    }

    private static long count(BenchClient c, ToLongFunction<SubState> f) {
        long n = 0;
        for (SubState s : c.subs) {
            n += f.applyAsLong(s);
        }
        return n;
    }

    /** The highest offset publishers in this process were told, per channel. */
    public long[] tops() {
        long[] t = new long[tops.length()];
        for (int i = 0; i < t.length; i++) {
            t[i] = tops.get(i);
        }
        return t;
    }

    /** Publishes sent and not yet answered, over all publishers of this process. */
    public long outstandingPublishes() {
        return sum(c -> c.publisher == null ? 0 : c.publisher.outstanding());
    }

    @Override
    public void cut(long spreadMillis) {
        long now = System.nanoTime();
        stats.reconnectAtMillis.reset();
        stats.reconnectLateMillis.reset();
        stats.resumeMillis.reset();
        stats.recoverMillis.reset();
        for (int l = 0; l < loops.length; l++) {
            List<BenchClient> mine = perLoop.get(l);
            loops[l].execute(() -> {
                for (BenchClient c : mine) {
                    if (c.publisher == null) {
                        c.cut(now, spreadMillis);
                    }
                }
            });
        }
    }

    @Override
    public Storm takeStorm() {
        long recovered = sum(c -> c.publisher == null && c.subs.length > 0 && c.recovered()
                && c.state == BenchClient.State.READY ? 1 : 0);
        return new Storm(stats.reconnectAtMillis.getIntervalHistogram(), stats.reconnectLateMillis.getIntervalHistogram(),
                stats.resumeMillis.getIntervalHistogram(), stats.recoverMillis.getIntervalHistogram(), recovered);
    }

    @Override
    public long cpuTicks() {
        return ProcStats.cpuTicks(ProcessHandle.current().pid());
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        closing = true;
        timers.forEach(t -> t.cancel(false));
        for (int l = 0; l < loops.length; l++) {
            List<BenchClient> mine = perLoop.get(l);
            loops[l].execute(() -> mine.forEach(BenchClient::close));
        }
        group.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
