package dev.tether.server.transport;

import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.Hub;
import dev.tether.server.http.HttpApi;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Netty plumbing: event loops (epoll when available), the listening socket, socket options. */
public final class Transport implements AutoCloseable {
    private static final int ACCEPT_BACKLOG = 4096;
    /** Start of the names of the event loops that serve connections ({@code tether-io-<pool>-<n>}). */
    public static final String IO_THREADS = "tether-io";

    private final TetherConfig config;
    private final Hub hub;
    private final BooleanSupplier ready;
    private final boolean epoll;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private Channel serverChannel;

    public Transport(TetherConfig config, Hub hub, BooleanSupplier ready) {
        this.config = config;
        this.hub = hub;
        this.ready = ready;
        this.epoll = config.nativeTransport() && Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        // Named threads: logs, thread dumps and per-thread CPU (the bench's heartbeat figure) can
        // tell the event loops apart from everything else in the process.
        this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tether-accept"), io);
        this.workers = new MultiThreadIoEventLoopGroup(config.ioThreads(), new DefaultThreadFactory(IO_THREADS), io);
    }

    /** Event loops serving connections ({@code io-threads}, or Netty's default when that is 0). */
    public int ioThreads() {
        return ((MultiThreadIoEventLoopGroup) workers).executorCount();
    }

    /** Netty's default sizes: a read buffer starts at 2 KiB and adapts between 64 B and 64 KiB. */
    private static final AdaptiveRecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator();

    public void bind() throws InterruptedException {
        Class<? extends ServerChannel> channel = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        int high = config.writeBufferHighWaterMark();
        HttpApi api = new HttpApi(hub, config, ready);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channel)
                .option(ChannelOption.SO_BACKLOG, ACCEPT_BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // One allocator for all connections (each still gets its own small handle); Netty
                // otherwise creates an allocator object per connection.
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_SIZES)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 2, high))
                .childHandler(new ServerInitializer(hub, config, api, () -> !ready.getAsBoolean()));
        serverChannel = b.bind(config.host(), config.port()).sync().channel();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public String kind() {
        return epoll ? "epoll" : "nio";
    }

    /** Closes the listening socket; open connections stay. */
    public void stopAccepting() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    @Override
    public void close() {
        stopAccepting();
        var b = boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        var w = workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        b.awaitUninterruptibly(5, TimeUnit.SECONDS);
        w.awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
