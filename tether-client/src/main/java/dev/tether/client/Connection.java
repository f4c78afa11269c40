package dev.tether.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection to the server: the Netty pipeline's end. It runs the opening
 * handshake, splits incoming frames into JSON messages, batches outgoing messages into frames,
 * runs the closing handshake and notices silence. What the messages mean is the
 * {@link Events}' business.
 *
 * <p>Owner: the client's event loop (the channel is registered on it). Every field is touched
 * only there.
 */
final class Connection extends SimpleChannelInboundHandler<Object> {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);

    /** The subprotocol offered (protocol section 1). */
    static final String SUBPROTOCOL = "tether.v1.json";
    /** Largest frame sent: the server's default {@code maxFrameBytes}; batches stay below it. */
    static final int MAX_FRAME_BYTES = 65536;
    /** Largest frame accepted: a server batch is at most 64 KiB, a single large publication more. */
    private static final int MAX_INBOUND_FRAME_BYTES = 16 * 1024 * 1024;
    private static final int MAX_UPGRADE_RESPONSE_BYTES = 64 * 1024;
    /** How long our close frame waits for the server's answer before the socket is dropped. */
    static final long CLOSE_GRACE_MILLIS = 1000;
    /** Close code for a connection that ended without a close frame (RFC 6455, 7.1.5). */
    static final int ABNORMAL_CLOSURE = 1006;
    private static final int NO_STATUS = 1005;

    /** What the client core is told. Called on the event loop. */
    interface Events {
        /** The WebSocket is open: send {@code connect}. */
        void onOpen(Connection connection);

        /** One message from the server. */
        void onMessage(Connection connection, JsonNode message);

        /** The connection is gone (or never came up). Called exactly once per connection. */
        void onClosed(Connection connection);
    }

    final long number;
    private final URI uri;
    private final Events events;
    private final WebSocketClientHandshaker handshaker;
    private Channel channel;
    private boolean open;
    private boolean closeSent;
    private boolean closedReported;
    private long lastId;
    private final Map<Long, Consumer<JsonNode>> replies = new HashMap<>();
    private final List<byte[]> batch = new ArrayList<>();
    private int batchBytes;
    private boolean flushScheduled;

    // Also on the event loop: how the connection ended (read by the core in onClosed) and what
    // the core learned about it.
    int closeCode = ABNORMAL_CLOSURE;
    String closeReason = "connection lost";
    /** From the server's {@code disconnect} push; -1 when none. */
    long retryAfterMillis = -1;
    /** From the server's {@code disconnect} push, or the close code's range. */
    Boolean serverSaysReconnect;
    /** The core got a successful {@code connect} result on this connection. */
    boolean connected;
    /** The core decided that this failure must not be retried (a permanent {@code connect} error). */
    boolean fatal;

    Connection(long number, URI uri, Events events) {
        this.number = number;
        this.uri = uri;
        this.events = events;
        this.handshaker = WebSocketClientHandshakerFactory.newHandshaker(uri, WebSocketVersion.V13, SUBPROTOCOL, false,
                EmptyHttpHeaders.INSTANCE, MAX_INBOUND_FRAME_BYTES, true, false, CLOSE_GRACE_MILLIS, false, false);
    }

    /**
     * Starts connecting on {@code loop}; {@link Events#onOpen} follows, or {@link Events#onClosed}
     * (possibly before this returns).
     */
    void open(EventLoop loop, SslContext ssl, int connectTimeoutMillis) {
        Connection c = this;
        String host = uri.getHost();
        int port = uri.getPort() != -1 ? uri.getPort() : "wss".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        ChannelFuture connecting = new Bootstrap()
                .group(loop)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_UPGRADE_RESPONSE_BYTES), c);
                    }
                })
                .connect(host, port);
        c.channel = connecting.channel();
        connecting.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                c.closeReason = "cannot connect to " + host + ":" + port + ": " + f.cause().getMessage();
                c.reportClosed();
            }
        });
    }

    // --- outbound --------------------------------------------------------------------------------

    /** Queues a notice (no reply) into the current outgoing batch. */
    void send(ObjectNode message) {
        if (!open || closeSent) {
            return;
        }
        byte[] bytes = encode(message);
        if (!batch.isEmpty() && batchBytes + 1 + bytes.length > MAX_FRAME_BYTES) {
            writeBatch();
        }
        batchBytes += (batch.isEmpty() ? 0 : 1) + bytes.length;
        batch.add(bytes);
        if (!flushScheduled) {
            // Everything sent during this turn of the loop leaves in one frame.
            flushScheduled = true;
            channel.eventLoop().execute(this::flush);
        }
    }

    /** Sends a command: {@code fields} plus a fresh {@code id}; {@code onReply} gets the reply. */
    void request(ObjectNode fields, Consumer<JsonNode> onReply) {
        long id = ++lastId;
        ObjectNode message = Json.object();
        message.put("id", id);
        message.setAll(fields);
        replies.put(id, onReply);
        send(message);
    }

    /** The handler for the reply with {@code id}, removed; null if unknown. */
    Consumer<JsonNode> takeReply(long id) {
        return replies.remove(id);
    }

    static byte[] encode(JsonNode message) {
        try {
            return Json.MAPPER.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + message, e);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (!batch.isEmpty()) {
            writeBatch();
        }
        channel.flush();
    }

    private void writeBatch() {
        ByteBuf buf = channel.alloc().buffer(batchBytes);
        for (int i = 0; i < batch.size(); i++) {
            if (i > 0) {
                buf.writeByte('\n');
            }
            buf.writeBytes(batch.get(i));
        }
        batch.clear();
        batchBytes = 0;
        channel.write(new TextWebSocketFrame(buf), channel.voidPromise());
    }

    /**
     * Treats {@code silenceMillis} without any frame from the server as a dead connection
     * (protocol section 8): the socket is dropped, which the core sees as a lost connection.
     */
    void watchSilence(long silenceMillis) {
        channel.pipeline().addFirst("silence", new IdleStateHandler(silenceMillis, 0, 0, TimeUnit.MILLISECONDS));
    }

    /**
     * Closing handshake with {@code code}: our close frame, then the socket closes when the
     * server answers or after {@link #CLOSE_GRACE_MILLIS}.
     */
    void close(int code, String reason) {
        if (!open || closeSent) {
            abort();
            return;
        }
        if (!batch.isEmpty()) {
            writeBatch();
        }
        closeSent = true;
        channel.writeAndFlush(new CloseWebSocketFrame(code, reason));
        channel.eventLoop().schedule(this::abort, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Drops the socket at once. */
    void abort() {
        channel.close();
    }

    // --- inbound ---------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        handshaker.handshake(ctx.channel());
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (!open) {
            if (msg instanceof FullHttpResponse response) {
                onUpgradeResponse(ctx, response);
            }
            return;
        }
        if (msg instanceof TextWebSocketFrame text) {
            onText(text.content());
        } else if (msg instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
        } else if (msg instanceof CloseWebSocketFrame close) {
            onCloseFrame(ctx, close);
        }
    }

    private void onUpgradeResponse(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (!response.status().equals(HttpResponseStatus.SWITCHING_PROTOCOLS)) {
            closeReason = "upgrade refused: " + response.status();
            ctx.close();
            return;
        }
        try {
            handshaker.finishHandshake(ctx.channel(), response);
        } catch (RuntimeException e) {
            closeReason = "invalid upgrade response: " + e.getMessage();
            ctx.close();
            return;
        }
        ctx.pipeline().addBefore(ctx.name(), "aggregator", new WebSocketFrameAggregator(MAX_INBOUND_FRAME_BYTES));
        open = true;
        events.onOpen(this);
    }

    private void onText(ByteBuf content) {
        byte[] bytes = ByteBufUtil.getBytes(content);
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                if (!isBlank(bytes, start, i)) {
                    onLine(bytes, start, i);
                }
                start = i + 1;
            }
        }
    }

    private void onLine(byte[] bytes, int from, int to) {
        JsonNode message;
        try {
            message = Json.MAPPER.readTree(bytes, from, to - from);
        } catch (IOException e) {
            log.warn("connection {}: ignoring a message that is not JSON: {}", number, e.getMessage());
            return;
        }
        if (message != null && message.isObject()) {
            events.onMessage(this, message);
        }
    }

    private static boolean isBlank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    private void onCloseFrame(ChannelHandlerContext ctx, CloseWebSocketFrame frame) {
        int code = frame.statusCode();
        closeCode = code < 0 ? NO_STATUS : code;
        String reason = frame.reasonText();
        if (reason != null && !reason.isEmpty()) {
            closeReason = reason;
        } else if (closeReason.equals("connection lost")) {
            closeReason = "closed by the server";
        }
        if (closeSent) {
            ctx.close();
            return;
        }
        closeSent = true;
        ctx.writeAndFlush(new CloseWebSocketFrame(closeCode == NO_STATUS ? 1000 : closeCode, ""))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** The server's {@code disconnect} push: what to report when the close frame follows. */
    void disconnectPush(int code, String reason, Boolean reconnect, long retryAfter) {
        closeCode = code;
        closeReason = reason;
        serverSaysReconnect = reconnect;
        retryAfterMillis = retryAfter;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            closeReason = "no message from the server for too long (dead connection)";
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        reportClosed();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("connection {}: {}", number, cause.toString());
        } else {
            log.warn("connection {}: unexpected error", number, cause);
        }
        if (closeReason.equals("connection lost")) {
            closeReason = "connection lost: " + cause.getMessage();
        }
        ctx.close();
    }

    private void reportClosed() {
        if (!closedReported) {
            closedReported = true;
            replies.clear();
            batch.clear();
            events.onClosed(this);
        }
    }

    @Override
    public String toString() {
        return "connection " + number;
    }
}
