package dev.tether.bench.baseline;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The ceiling to compare against: a minimal raw Netty WebSocket broadcast server, written the way
 * the Netty examples teach. Each channel is a {@link ChannelGroup}; a publication is encoded once
 * into one frame and {@code group.writeAndFlush(frame)} sends a duplicate of it to every member
 * (one write and one flush, so one system call, per subscriber and publication).
 *
 * <p>It speaks just enough of the Tether protocol for the generator: {@code connect},
 * {@code subscribe}, {@code publish} (offsets, no storage, no history, no resume), a {@code ping}
 * to everyone every ping interval; {@code pong} and {@code ack} are read and ignored.
 *
 * <p>Each channel's publications are assigned offsets and written from one event loop (the
 * channel's "home"), so every subscriber sees them in offset order without a lock.
 */
public final class BaselineServer implements AutoCloseable {
    private static final byte[] CONNECT = bytes("\"op\":\"connect\"");
    private static final byte[] SUBSCRIBE = bytes("\"op\":\"subscribe\"");
    private static final byte[] PUBLISH = bytes("\"op\":\"publish\"");
    private static final byte[] CHANNEL = bytes("\"channel\":\"");
    private static final byte[] DATA = bytes("\"data\":");
    private static final byte[] ID = bytes("{\"id\":");

    /** Start of the names of the event loops that serve connections, for per-thread CPU. */
    public static final String IO_THREADS = "baseline-io";

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel server;
    private final ChannelGroup everyone = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
    private final LongAdder deliveries = new LongAdder();
    private final AtomicLong clientIds = new AtomicLong();

    /** One channel: its subscribers and its offsets, owned by {@link #home}. */
    private final class Topic {
        final String name;
        final EventLoop home;
        final ChannelGroup members;
        long offset;

        Topic(String name, EventLoop home) {
            this.name = name;
            this.home = home;
            this.members = new DefaultChannelGroup(name, home);
        }
    }

    public BaselineServer(String host, int port, long pingMillis) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("baseline-accept"),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory(IO_THREADS),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Handler handler = new Handler();
        server = new ServerBootstrap().group(boss, workers)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/ws", "tether.v1.json"), handler);
                    }
                })
                .bind(host, port).sync().channel();
        if (pingMillis > 0) {
            ByteBuf ping = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(bytes("{\"op\":\"ping\"}")));
            workers.next().scheduleAtFixedRate(() -> everyone.writeAndFlush(new TextWebSocketFrame(ping.duplicate())),
                    pingMillis, pingMillis, TimeUnit.MILLISECONDS);
        }
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public int connections() {
        return everyone.size();
    }

    public long deliveries() {
        return deliveries.sum();
    }

    @ChannelHandler.Sharable
    private final class Handler extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                everyone.add(ctx.channel());
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
            ByteBuf in = frame.content();
            int end = in.writerIndex();
            int i = in.readerIndex();
            while (i < end) {
                int e = in.indexOf(i, end, (byte) '\n');
                e = e < 0 ? end : e;
                line(ctx, in, i, e);
                i = e + 1;
            }
            ctx.flush();
        }

        private void line(ChannelHandlerContext ctx, ByteBuf in, int from, int to) {
            if (!startsWith(in, from, to, ID)) {
                return; // pong, ack: nothing to do
            }
            long id = number(in, from + ID.length, to);
            if (find(in, from, to, PUBLISH) >= 0) {
                publish(ctx.channel(), id, in, from, to);
            } else if (find(in, from, to, SUBSCRIBE) >= 0) {
                String name = string(in, from, to, CHANNEL);
                Topic t = topics.computeIfAbsent(name, n -> new Topic(n, ctx.channel().eventLoop()));
                Channel ch = ctx.channel();
                t.home.execute(() -> {
                    t.members.add(ch);
                    ch.writeAndFlush(text("{\"id\":" + id + ",\"result\":{\"channel\":\"" + name + "\",\"offset\":"
                            + t.offset + ",\"epoch\":\"baseline\",\"recovered\":true}}"));
                });
            } else if (find(in, from, to, CONNECT) >= 0) {
                String c = "b-" + clientIds.incrementAndGet();
                ctx.write(text("{\"id\":" + id + ",\"result\":{\"client\":\"" + c + "\",\"session\":\"" + c
                        + "\",\"user\":\"\",\"resumed\":false}}"));
            }
        }

        private void publish(Channel publisher, long id, ByteBuf in, int from, int to) {
            String name = string(in, from, to, CHANNEL);
            int d = find(in, from, to, DATA);
            if (name == null || d < 0) {
                return;
            }
            // The data value runs to the key field or the closing brace of the command.
            int k = find(in, d, to, bytes(",\"key\":"));
            byte[] data = ByteBufUtil.getBytes(in, d + DATA.length, (k >= 0 ? k : to - 1) - d - DATA.length);
            Topic t = topics.computeIfAbsent(name, n -> new Topic(n, publisher.eventLoop()));
            t.home.execute(() -> {
                long offset = ++t.offset;
                ByteBuf push = Unpooled.directBuffer(data.length + name.length() + 80);
                push.writeBytes(bytes("{\"op\":\"pub\",\"channel\":\"" + name + "\",\"offset\":" + offset + ",\"data\":"));
                push.writeBytes(data);
                push.writeBytes(bytes(",\"ts\":" + System.currentTimeMillis() + "}"));
                deliveries.add(t.members.size());
                t.members.writeAndFlush(new TextWebSocketFrame(push));
                publisher.writeAndFlush(text("{\"id\":" + id + ",\"result\":{\"offset\":" + offset
                        + ",\"epoch\":\"baseline\",\"duplicate\":false}}"));
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static TextWebSocketFrame text(String s) {
        return new TextWebSocketFrame(Unpooled.wrappedBuffer(bytes(s)));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean startsWith(ByteBuf b, int at, int end, byte[] p) {
        if (end - at < p.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (b.getByte(at + i) != p[i]) {
                return false;
            }
        }
        return true;
    }

    private static int find(ByteBuf b, int from, int end, byte[] p) {
        for (int i = from; i <= end - p.length; i++) {
            if (startsWith(b, i, end, p)) {
                return i;
            }
        }
        return -1;
    }

    private static long number(ByteBuf b, int at, int end) {
        long v = 0;
        for (int i = at; i < end && b.getByte(i) >= '0' && b.getByte(i) <= '9'; i++) {
            v = v * 10 + b.getByte(i) - '0';
        }
        return v;
    }

    private static String string(ByteBuf b, int from, int end, byte[] field) {
        int s = find(b, from, end, field);
        if (s < 0) {
            return null;
        }
        s += field.length;
        int e = b.indexOf(s, end, (byte) '"');
        return e < 0 ? null : b.toString(s, e - s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        everyone.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
