package dev.tether.client.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake server that answers {@code connect} (with {@code ping} and {@code pong} of 100 ms),
 * sends one {@code ping}, and then never says anything again: what a client sees when the
 * server or the network silently dies.
 */
final class SilentServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long PING_MILLIS = 100;
    static final long PONG_MILLIS = 100;

    final AtomicInteger connects = new AtomicInteger();
    final AtomicInteger pongs = new AtomicInteger();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    SilentServer() {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/ws", "tether.v1.json"), new Handler());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    URI url() {
        return URI.create("ws://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/ws");
    }

    private final class Handler extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) throws Exception {
            for (String line : frame.text().split("\n")) {
                JsonNode m = JSON.readTree(line);
                switch (m.path("op").asText()) {
                    case "connect" -> {
                        int n = connects.incrementAndGet();
                        ctx.writeAndFlush(new TextWebSocketFrame("{\"id\":" + m.path("id").asLong() + ",\"result\":{\"client\":\"c-" + n
                                + "\",\"session\":\"s-" + n + "\",\"user\":\"\",\"resumed\":false,\"ping\":" + PING_MILLIS
                                + ",\"pong\":" + PONG_MILLIS + ",\"window\":1024}}\n{\"op\":\"ping\"}"));
                    }
                    case "pong" -> pongs.incrementAndGet();
                    default -> {
                        // silent
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
    }
}
