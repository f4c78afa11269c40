package dev.tether.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * A tiny WebSocket server at {@code /ws} on 127.0.0.1 that echoes frames, with a few scripted
 * replies: {@code batch} answers three messages in one frame, {@code close:CODE:REASON} closes
 * with that code, {@code drop} ends TCP without a close frame. An upgrade carrying the header
 * {@code X-Refuse} is refused with 403.
 */
final class EchoWsServer implements AutoCloseable {

    static final String SUBPROTOCOL = "tether.v1.json";
    static final String BATCH_REPLY = "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n";
    private static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    /** Upgraded and not yet upgraded connections; closed ones leave by themselves. */
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel server;

    EchoWsServer() {
        WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/ws")
                .subprotocols(SUBPROTOCOL)
                .maxFramePayloadLength(MAX_MESSAGE_BYTES)
                .sendCloseFrame(null) // so that "drop" really ends TCP without a close frame
                .build();
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new Refuser(), new WebSocketServerProtocolHandler(ws),
                                new WebSocketFrameAggregator(MAX_MESSAGE_BYTES), new Echo());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .syncUninterruptibly()
                .channel();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    URI uri() {
        return uriVia(address().getPort());
    }

    static URI uriVia(int port) {
        return URI.create("ws://127.0.0.1:" + port + "/ws");
    }

    int openConnections() {
        return connections.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        connections.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Refuser extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest request && request.headers().contains("X-Refuse")) {
                request.release();
                DefaultFullHttpResponse response =
                        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN);
                response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    private static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame text) {
                String message = text.text();
                if (message.equals("batch")) {
                    ctx.writeAndFlush(new TextWebSocketFrame(BATCH_REPLY));
                } else if (message.startsWith("close:")) {
                    String[] parts = message.split(":", 3);
                    ctx.writeAndFlush(new CloseWebSocketFrame(Integer.parseInt(parts[1]), parts[2]))
                            .addListener(ChannelFutureListener.CLOSE);
                } else if (message.equals("drop")) {
                    ctx.close();
                } else {
                    ctx.writeAndFlush(text.retain());
                }
            } else if (frame instanceof BinaryWebSocketFrame binary) {
                ctx.writeAndFlush(binary.retain());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Protocol violations (invalid UTF-8, ...) are answered by Netty's handlers already.
            ctx.close();
        }
    }
}
