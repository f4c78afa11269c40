package dev.tether.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Opens a {@link WsTestClient}'s TCP connection and runs the opening handshake. Used once. */
final class ClientConnector {

    /** Upper bound on the HTTP response to a refused upgrade; a larger one is a server bug. */
    private static final int MAX_UPGRADE_RESPONSE_BYTES = 64 * 1024;
    /** Passed to Netty's handshaker, which uses it only if asked to close on its own. */
    private static final long FORCE_CLOSE_MILLIS = 5_000;

    private final URI uri;
    private final WsTestClient.Options options;
    final WebSocketClientHandshaker handshaker;
    final Inbox inbox = new Inbox();
    final ClientHandler handler;

    ClientConnector(URI uri, WsTestClient.Options options) {
        if (!"ws".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("only ws:// URIs are supported: " + uri);
        }
        this.uri = uri;
        this.options = options;
        this.handshaker = WebSocketClientHandshakerFactory.newHandshaker(
                uri, WebSocketVersion.V13, options.subprotocol(), false, options.headers(),
                options.maxFramePayloadBytes(), true, false, FORCE_CLOSE_MILLIS, false,
                false); // no generated Origin: a test sets one explicitly or sends none, like a non-browser
        this.handler = new ClientHandler(handshaker, inbox, options.maxFramePayloadBytes());
    }

    /** Connects and blocks until the upgrade completes; returns the upgraded channel. */
    Channel open() {
        Bootstrap bootstrap = new Bootstrap()
                .group(options.eventLoopGroup())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.connectTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(),
                                new HttpObjectAggregator(MAX_UPGRADE_RESPONSE_BYTES), handler);
                    }
                });
        if (options.receiveBufferBytes() > 0) {
            // Set before connect so the TCP window is negotiated to match.
            bootstrap.option(ChannelOption.SO_RCVBUF, options.receiveBufferBytes());
        }
        int port = uri.getPort() != -1 ? uri.getPort() : 80;
        InetSocketAddress remote = InetSocketAddress.createUnresolved(uri.getHost(), port);
        ChannelFuture connecting = options.localAddress() == null
                ? bootstrap.connect(remote)
                : bootstrap.connect(remote, options.localAddress());
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                handler.handshakeDone.completeExceptionally(
                        WsHandshakeException.noResponse("could not connect to " + remote, f.cause()));
            }
        });
        Channel channel = connecting.channel();
        try {
            handler.handshakeDone.get(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return channel;
        } catch (ExecutionException e) {
            channel.close();
            WsHandshakeException failure = (WsHandshakeException) e.getCause();
            // A new exception, so that the trace shows the test's call site.
            throw new WsHandshakeException(failure.getMessage(), failure.status(), failure.headers(),
                    failure.body(), failure);
        } catch (TimeoutException e) {
            channel.close();
            throw WsHandshakeException.noResponse("no upgrade within " + options.connectTimeout() + ": " + uri, e);
        } catch (InterruptedException e) {
            channel.close();
            Thread.currentThread().interrupt();
            throw WsHandshakeException.noResponse("interrupted while connecting to " + uri, e);
        }
    }
}
