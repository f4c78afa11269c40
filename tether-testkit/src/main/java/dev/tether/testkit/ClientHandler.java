package dev.tether.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's pipeline end: drives the opening handshake, then files every frame into the
 * {@link Inbox}, answers pings and runs the closing handshake. Sits after an
 * {@code HttpClientCodec} and an {@code HttpObjectAggregator}; after the upgrade a
 * {@link WebSocketFrameAggregator} is put in front of it, so it never sees continuation frames.
 */
final class ClientHandler extends SimpleChannelInboundHandler<Object> {

    private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);

    /** Close code reported when the server's close frame carried no status (RFC 6455, 7.4.1). */
    static final int NO_STATUS_RECEIVED = 1005;
    /** Close code reported when TCP ended without a close frame. */
    static final int NO_CLOSE_FRAME = -1;

    private final WebSocketClientHandshaker handshaker;
    private final Inbox inbox;
    private final int maxFramePayloadBytes;

    final CompletableFuture<Void> handshakeDone = new CompletableFuture<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    /** Written by the event loop before {@link #closeCode} completes. */
    volatile String closeReason;

    /** Event loop only: whether this side has sent its close frame. */
    private boolean closeSent;

    ClientHandler(WebSocketClientHandshaker handshaker, Inbox inbox, int maxFramePayloadBytes) {
        this.handshaker = handshaker;
        this.inbox = inbox;
        this.maxFramePayloadBytes = maxFramePayloadBytes;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        handshaker.handshake(ctx.channel()).addListener(f -> {
            if (!f.isSuccess()) {
                handshakeDone.completeExceptionally(
                        WsHandshakeException.noResponse("could not send the upgrade request", f.cause()));
            }
        });
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (!handshaker.isHandshakeComplete()) {
            if (msg instanceof FullHttpResponse response) {
                onUpgradeResponse(ctx, response);
            }
            return;
        }
        if (msg instanceof TextWebSocketFrame text) {
            inbox.onTextFrame(text.text());
        } else if (msg instanceof BinaryWebSocketFrame binary) {
            inbox.onBinaryFrame(ByteBufUtil.getBytes(binary.content()));
        } else if (msg instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
        } else if (msg instanceof PongWebSocketFrame) {
            inbox.onPong();
        } else if (msg instanceof CloseWebSocketFrame close) {
            onCloseFrame(ctx, close);
        }
    }

    private void onUpgradeResponse(ChannelHandlerContext ctx, FullHttpResponse response) {
        int status = response.status().code();
        if (status != HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            String body = response.content().toString(StandardCharsets.UTF_8);
            handshakeDone.completeExceptionally(new WsHandshakeException(
                    "upgrade refused: " + response.status(), status,
                    new DefaultHttpHeaders().add(response.headers()), body, null));
            ctx.close();
            return;
        }
        try {
            handshaker.finishHandshake(ctx.channel(), response);
        } catch (WebSocketHandshakeException e) {
            handshakeDone.completeExceptionally(new WsHandshakeException(
                    "invalid upgrade response: " + e.getMessage(), status,
                    new DefaultHttpHeaders().add(response.headers()), "", e));
            ctx.close();
            return;
        }
        ctx.pipeline().addBefore(ctx.name(), "ws-aggregator", new WebSocketFrameAggregator(maxFramePayloadBytes));
        handshakeDone.complete(null);
    }

    /**
     * The server's close frame: record it, then answer with our own close frame (echoing the
     * code, as RFC 6455 asks) unless we already sent one, and end the TCP connection.
     */
    private void onCloseFrame(ChannelHandlerContext ctx, CloseWebSocketFrame frame) {
        int code = frame.statusCode();
        closeReason = frame.content().readableBytes() > 2 ? frame.reasonText() : "";
        closeCode.complete(code < 0 ? NO_STATUS_RECEIVED : code);
        if (closeSent) {
            ctx.close();
            return;
        }
        closeSent = true;
        ByteBuf echo = code < 0 ? Unpooled.EMPTY_BUFFER : ctx.alloc().buffer(2).writeShort(code);
        ctx.writeAndFlush(new CloseWebSocketFrame(true, 0, echo)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Event loop only. Sends our close frame; the channel is closed when the server answers.
     * The code is sent as given, even if RFC 6455 forbids it, so tests can probe the server.
     */
    void sendClose(Channel channel, int code, String reason) {
        if (closeSent || !channel.isActive()) {
            return;
        }
        closeSent = true;
        byte[] reasonBytes = reason.getBytes(StandardCharsets.UTF_8);
        ByteBuf payload = channel.alloc().buffer(2 + reasonBytes.length).writeShort(code).writeBytes(reasonBytes);
        channel.writeAndFlush(new CloseWebSocketFrame(true, 0, payload));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        handshakeDone.completeExceptionally(
                WsHandshakeException.noResponse("connection closed before the upgrade completed", null));
        closeCode.complete(NO_CLOSE_FRAME);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!handshakeDone.isDone()) {
            handshakeDone.completeExceptionally(WsHandshakeException.noResponse("upgrade failed: " + cause, cause));
        } else {
            log.debug("WebSocket test client {} failed, closing", ctx.channel(), cause);
        }
        ctx.close();
    }
}
