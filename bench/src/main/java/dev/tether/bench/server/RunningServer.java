package dev.tether.bench.server;

import dev.tether.bench.baseline.BaselineServer;
import dev.tether.server.TetherServer;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.transport.Transport;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;

/** A Tether or baseline server running in this JVM, and the in-process hook that measures it. */
public final class RunningServer implements AutoCloseable {
    private final TetherServer tether;
    private final BaselineServer baseline;
    private final String wsUrl;

    private RunningServer(TetherServer tether, BaselineServer baseline, String wsUrl) {
        this.tether = tether;
        this.baseline = baseline;
        this.wsUrl = wsUrl;
    }

    public static RunningServer start(ServerOptions o) throws Exception {
        if (o.kind().equals("baseline")) {
            BaselineServer b = new BaselineServer("127.0.0.1", 0, o.pingMillis());
            return new RunningServer(null, b, "ws://127.0.0.1:" + b.port() + "/ws");
        }
        TetherConfig config = TetherConfig.builder()
                .host("127.0.0.1")
                .port(0)
                .pingInterval(Duration.ofMillis(o.pingMillis()))
                .pongTimeout(Duration.ofMillis(o.pongMillis()))
                .historySize(o.historySize())
                .historyMemory(o.historyMemory())
                .ioThreads(o.ioThreads())
                .maxConnections(1_000_000)
                .allowedOrigins(List.of("*"))
                .build();
        TetherServer t = TetherServer.start(config);
        return new RunningServer(t, null, "ws://127.0.0.1:" + t.port() + "/ws");
    }

    public String wsUrl() {
        return wsUrl;
    }

    /** Measures this JVM; with {@code gc}, after two full collections so the heap holds live data only. */
    public ServerStats stats(boolean gc) {
        if (gc) {
            System.gc();
            System.gc();
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed();
            }
        }
        long netty = PlatformDependent.usedDirectMemory();
        if (netty < 0 && ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            netty = p.metric().usedDirectMemory();
        }
        long pid = ProcessHandle.current().pid();
        long connections = tether != null ? tether.hub().connectionCount() : baseline.connections();
        long deliveries = tether != null ? tether.hub().metrics().deliveries.sum() : baseline.deliveries();
        String io = tether != null ? Transport.IO_THREADS : BaselineServer.IO_THREADS;
        return new ServerStats(heap, direct, netty, ProcStats.rssKib(pid), ProcStats.cpuTicks(pid),
                ProcStats.threadCpuNanos(pid, io), connections, deliveries, ProcStats.openFiles(pid));
    }

    @Override
    public void close() {
        if (tether != null) {
            tether.shutdown().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null).join();
        } else {
            baseline.close();
        }
    }
}
