package dev.tether.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy that breaks connections on demand, for testing how clients and servers survive
 * network faults. It listens on 127.0.0.1 on an ephemeral port and forwards every connection
 * to one target.
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", serverPort))) {
 *     WsTestClient ws = WsTestClient.connect(URI.create("ws://127.0.0.1:" + proxy.port() + "/ws"));
 *     proxy.cutAll();                  // both ends see a reset connection
 *     ws.disconnected().get(5, SECONDS);
 * }
 * }</pre>
 *
 * <p>Forwarding respects backpressure: a side stops reading while the other side cannot keep
 * up, so a slow reader behind the proxy looks slow to the sender too. All methods are
 * thread-safe; the cutting methods block (at most 5 s) until the cut connections are closed.
 */
public final class FaultProxy implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FaultProxy.class);

    /** Bound on waiting for cut connections to close. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final InetSocketAddress target;
    private final Set<ProxiedConnection> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong totalCut = new AtomicLong();
    private final AtomicLong totalRefused = new AtomicLong();
    private volatile boolean refusing;
    /** Set once by {@link #start}. */
    private Channel server;

    private FaultProxy(InetSocketAddress target) {
        this.target = target;
    }

    /** Starts a proxy to {@code target}; blocks until it is listening. */
    public static FaultProxy start(InetSocketAddress target) {
        FaultProxy proxy = new FaultProxy(target);
        proxy.server = new ServerBootstrap()
                .group(EventLoops.proxies())
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        proxy.accept(ch);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .syncUninterruptibly()
                .channel();
        log.debug("fault proxy on port {} forwarding to {}", proxy.port(), target);
        return proxy;
    }

    /** Event loop only: a new client connection. */
    private void accept(SocketChannel ch) {
        if (refusing) {
            totalRefused.incrementAndGet();
            ch.close();
            return;
        }
        ProxiedConnection connection = new ProxiedConnection(accepted.incrementAndGet(), ch);
        live.add(connection);
        connection.start(target, () -> live.remove(connection));
    }

    /** The port clients connect to, on 127.0.0.1. */
    public int port() {
        return address().getPort();
    }

    /** The address clients connect to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** The address every connection is forwarded to. */
    public InetSocketAddress target() {
        return target;
    }

    /** Connections currently proxied (or still connecting to the target). */
    public int activeConnections() {
        return live.size();
    }

    /**
     * Resets every proxied connection on both sides (RST, data in flight discarded) and waits
     * until they are closed.
     *
     * @return how many connections were cut
     */
    public int cutAll() {
        List<CompletableFuture<Void>> cut = new ArrayList<>();
        for (ProxiedConnection connection : live) {
            if (connection.cut()) {
                cut.add(connection.ended());
            }
        }
        totalCut.addAndGet(cut.size());
        awaitEnded(cut);
        return cut.size();
    }

    /**
     * Resets one live connection, picked with {@code rnd} among them in order of acceptance (so a
     * seeded {@code Random} makes the choice repeatable), and waits until it is closed.
     *
     * @return false if there was no connection to cut
     */
    public boolean cutRandom(Random rnd) {
        List<ProxiedConnection> candidates = new ArrayList<>(live);
        candidates.sort(Comparator.comparingLong(c -> c.sequence));
        while (!candidates.isEmpty()) {
            ProxiedConnection victim = candidates.remove(rnd.nextInt(candidates.size()));
            if (victim.cut()) {
                totalCut.incrementAndGet();
                awaitEnded(List.of(victim.ended()));
                return true;
            }
        }
        return false;
    }

    /**
     * While {@code refusing} is true, new connections are accepted and closed at once, as by a
     * server that is down behind a load balancer. Live connections are not touched.
     */
    public void setRefusing(boolean refusing) {
        this.refusing = refusing;
    }

    /** Connections cut by {@link #cutAll()} and {@link #cutRandom} since start. */
    public long totalCut() {
        return totalCut.get();
    }

    /** Connections closed on arrival while refusing, since start. */
    public long totalRefused() {
        return totalRefused.get();
    }

    /** Stops listening and resets every live connection (not counted in {@link #totalCut()}). */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (ProxiedConnection connection : live) {
            connection.cut();
            closing.add(connection.ended());
        }
        awaitEnded(closing);
    }

    private static void awaitEnded(List<CompletableFuture<Void>> futures) {
        try {
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
                    .get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("proxied connections did not close within {}", CLOSE_WAIT, e);
        }
    }

    @Override
    public String toString() {
        return "FaultProxy[127.0.0.1:" + port() + " -> " + target + "]";
    }
}
