package dev.tether.server;

import dev.tether.server.broker.Broker;
import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.Hub;
import dev.tether.server.metrics.TetherMetrics;
import dev.tether.server.presence.MemoryPresence;
import dev.tether.server.session.MemorySessionStore;
import dev.tether.server.transport.Transport;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Tether server: the hub on the embedded in-memory backend behind Netty.
 *
 * <pre>{@code
 * TetherServer server = TetherServer.start(TetherConfig.builder().port(0).build());
 * ... server.url() ...
 * server.shutdown().join();
 * }</pre>
 */
public final class TetherServer {
    private static final Logger log = LoggerFactory.getLogger(TetherServer.class);
    /** Extra time after the drain window for clients to answer the close handshake. */
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(3);
    /** Runs the end of a shutdown; a new daemon thread each time, so it never waits on itself. */
    private static final java.util.concurrent.Executor SHUTDOWN_EXECUTOR = task -> {
        Thread t = new Thread(task, "tether-shutdown");
        t.setDaemon(true);
        t.start();
    };

    private final TetherConfig config;
    private final Hub hub;
    private final Transport transport;
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile boolean ready;

    private TetherServer(TetherConfig config, Hub hub, Transport transport) {
        this.config = config;
        this.hub = hub;
        this.transport = transport;
    }

    public static TetherServer start(TetherConfig config) throws Exception {
        Clock clock = Clock.systemUTC();
        long historyMemory = config.historyMemory().resolve(Runtime.getRuntime().maxMemory());
        Broker broker = new MemoryBroker(config::historyFor, config.dedupWindow(), config.dedupMaxKeys(), historyMemory,
                clock);
        Hub hub = new Hub(config, broker, new MemoryPresence(), new MemorySessionStore(clock, config.maxDetachedSessions()), new TetherMetrics(), clock);
        TetherServer[] self = new TetherServer[1];
        Transport transport = new Transport(config, hub, () -> self[0] != null && self[0].ready);
        TetherServer server = new TetherServer(config, hub, transport);
        self[0] = server;
        try {
            transport.bind();
        } catch (Exception e) {
            transport.close();
            hub.close();
            throw e;
        }
        server.ready = true;
        int loops = transport.ioThreads();
        log.info("Tether listening on {} (WebSocket {}{}, {} transport, {} event loop{}, history-memory {} = {} MiB)",
                server.url(), config.wsPath(), config.echoPath() == null ? "" : ", echo " + config.echoPath(),
                transport.kind(), loops, loops == 1 ? "" : "s", config.historyMemory(), historyMemory >> 20);
        return server;
    }

    public String url() {
        InetSocketAddress a = transport.localAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "localhost" : a.getHostString();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    public String wsUrl() {
        return url().replaceFirst("^http", "ws") + config.wsPath();
    }

    public int port() {
        return transport.localAddress().getPort();
    }

    /** Event loops serving connections. */
    public int ioThreads() {
        return transport.ioThreads();
    }

    public boolean ready() {
        return ready;
    }

    public Hub hub() {
        return hub;
    }

    public TetherConfig config() {
        return config;
    }

    /**
     * Graceful shutdown (PROTOCOL.md section 14): readiness goes 503, new WebSocket upgrades are
     * refused with 503, every
     * connection gets {@code disconnect 4000} spread over {@code shutdownDrain}, storage is flushed.
     */
    public CompletableFuture<Void> shutdown() {
        if (!shuttingDown.compareAndSet(false, true)) {
            return terminated;
        }
        ready = false;
        log.info("shutting down: draining {} connections over {} ms", hub.connectionCount(), config.shutdownDrain().toMillis());
        // The listener stays open during the drain so probes see /readyz 503; upgrades get 503.
        hub.drain(config.shutdownDrain())
                .orTimeout(config.shutdownDrain().plus(DRAIN_GRACE).toMillis(), TimeUnit.MILLISECONDS)
                .handle((v, err) -> {
                    if (err != null) {
                        log.warn("{} connections still open after the drain window; closing them", hub.connectionCount());
                    }
                    return null;
                })
                // Continue off the event loops: closing the transport waits for them to stop.
                .thenComposeAsync(v -> hub.broker().flush(), SHUTDOWN_EXECUTOR)
                .whenCompleteAsync((v, err) -> {
                    transport.close();
                    hub.close();
                    log.info("Tether stopped");
                    terminated.complete(null);
                }, SHUTDOWN_EXECUTOR);
        return terminated;
    }

    public CompletableFuture<Void> terminated() {
        return terminated;
    }
}
