package dev.tether.server.hub;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.broker.Publication;
import dev.tether.server.protocol.CloseCode;
import dev.tether.server.protocol.ErrorCode;
import dev.tether.server.protocol.Json;
import dev.tether.server.protocol.ProtocolException;
import dev.tether.server.session.SessionState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.Timeout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection: reads commands, writes replies and pushes, delivers subscriptions
 * and runs the heartbeat.
 *
 * <p>Owner: the channel's event loop. Every field is touched only there (timer callbacks and other
 * threads hop onto the loop first), so nothing here needs a lock.
 *
 * <p>Overflow policy: publications are never queued per connection. Delivery stops while the socket
 * is not writable (or the client's ack window is full) and continues from the subscription's
 * position when it drains. A subscriber whose position falls out of history is closed with 4002.
 * Replies and pushes that pile up beyond {@code maxPendingWriteBytes} close the connection with 4002.
 */
public final class Connection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    /** Publications and replies are batched into one frame up to this many bytes. */
    static final int MAX_BATCH_BYTES = 64 * 1024;
    static final int MAX_BATCH_PUBLICATIONS = 128;
    /** How long a client gets to answer our close frame before the socket is closed anyway. */
    static final long CLOSE_GRACE_MILLIS = 1000;
    public static final long CLOSE_GRACE_MILLIS_PUBLIC = CLOSE_GRACE_MILLIS;
    private static final ByteBuf NEWLINE = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(1).writeByte('\n').asReadOnly());
    private static final ByteBuf PING = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("{\"op\":\"ping\"}".getBytes(StandardCharsets.US_ASCII)).asReadOnly());

    enum State { AWAITING_CONNECT, CONNECTING, CONNECTED, CLOSING, CLOSED }

    /** What happens to the session when the socket goes away. */
    enum SessionFate { KEEP, END, MOVED }

    final Hub hub;
    private final CommandHandler commands;
    private ChannelHandlerContext ctx;
    private EventLoop loop;
    State state = State.AWAITING_CONNECT;
    SessionFate fate = SessionFate.KEEP;
    String sessionId;
    String clientId;
    String user = "";
    String infoJson;
    final Map<String, Subscription> subscriptions = new LinkedHashMap<>();
    /** Ids of commands whose reply is still pending (async storage). */
    final Set<Long> outstanding = new HashSet<>();
    /** Messages that arrived while connect was still being decided; replayed in order after it. */
    final ArrayDeque<JsonNode> deferred = new ArrayDeque<>();
    private CompositeByteBuf pending;
    private int pendingBytes;
    private long pingSeq;
    private long pongSeq;
    private Timeout pingTimer;
    private Timeout pongTimer;
    private Timeout connectTimer;
    private double publishTokens;
    private long publishRefillNanos;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    public Connection(Hub hub) {
        this.hub = hub;
        this.commands = new CommandHandler(this);
    }

    EventLoop eventLoop() {
        return loop;
    }

    CompletableFuture<Void> closeFuture() {
        return closed;
    }

    // --- lifecycle -------------------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.loop = ctx.channel().eventLoop();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            boolean admitted = hub.register(this);
            if (hub.draining()) {
                disconnect(CloseCode.SHUTDOWN, "server is shutting down", jitter(1000));
            } else if (!admitted) {
                disconnect(CloseCode.OVERLOADED, "connection limit reached", 5000 + jitter(5000));
            } else {
                connectTimer = hub.timer.newTimeout(t -> onLoop(this::connectTimedOut),
                        hub.config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void connectTimedOut() {
        if (state == State.AWAITING_CONNECT || state == State.CONNECTING) {
            disconnect(CloseCode.NO_CONNECT, "no connect within " + hub.config.connectTimeout().toMillis() + " ms", jitter(1000));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State was = state;
        state = State.CLOSED;
        cancel(pingTimer);
        cancel(pongTimer);
        cancel(connectTimer);
        if (pending != null) {
            pending.release();
            pending = null;
        }
        hub.unregister(this);
        if (sessionId != null && fate != SessionFate.MOVED && (was == State.CONNECTED || was == State.CLOSING)) {
            // Saved before the hub forgets the holder, so a racing resume finds it in one place or the other.
            SessionState saved = releaseSession(fate != SessionFate.END);
            if (fate == SessionFate.END) {
                for (SessionState.SubscriptionState s : saved.subscriptions()) {
                    hub.presence.leave(s.channel(), clientId);
                }
                log.info("client {} session {} ended", clientId, sessionId);
            } else {
                log.info("client {} session {} detached, kept {} ms for resume", clientId, sessionId,
                        hub.config.sessionTtl().toMillis());
            }
        }
        closed.complete(null);
        ctx.fireChannelInactive();
    }

    /** Lets go of the session's subscriptions here and returns what a resume needs. */
    private SessionState releaseSession(boolean keep) {
        List<SessionState.SubscriptionState> subs = new ArrayList<>(subscriptions.size());
        for (Subscription s : subscriptions.values()) {
            s.active = false;
            hub.removeSubscriber(s);
            subs.add(new SessionState.SubscriptionState(s.channel, s.delivered(), s.stream.epoch(), s.presence, s.ackSeen));
            s.stream.close();
        }
        subscriptions.clear();
        SessionState state = new SessionState(sessionId, clientId, user, infoJson, subs);
        if (keep) {
            hub.sessions.save(state, hub.config.sessionTtl());
        }
        hub.detach(sessionId, this);
        return state;
    }

    /** Another connection resumes our session: hand it over and close with 4502. Any thread. */
    CompletableFuture<SessionState> handOver(String id) {
        CompletableFuture<SessionState> result = new CompletableFuture<>();
        Runnable task = () -> {
            if (!id.equals(sessionId) || fate == SessionFate.MOVED || state == State.CLOSED) {
                result.complete(null);
                return;
            }
            SessionState s = releaseSession(false);
            fate = SessionFate.MOVED;
            disconnect(CloseCode.TAKEN_OVER, "session resumed by another connection", -1);
            result.complete(s);
        };
        if (loop.isShuttingDown()) {
            result.complete(null);
        } else {
            loop.execute(task);
        }
        return result;
    }

    /** Server shutdown: tell the client to come back (somewhere) after a jittered delay. Any thread. */
    void shutdownDisconnect() {
        onLoop(() -> disconnect(CloseCode.SHUTDOWN, "server shutting down", jitter(hub.config.shutdownDrain().toMillis())));
    }

    // --- inbound ---------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof TextWebSocketFrame text) {
                onText(text.content());
            } else if (msg instanceof CloseWebSocketFrame close) {
                onClose(close);
            } else if (msg instanceof BinaryWebSocketFrame) {
                hub.metrics.framesIn.increment();
                closeWith(WebSocketCloseStatus.INVALID_MESSAGE_TYPE.code(), "binary frames are not supported");
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onText(ByteBuf content) {
        hub.metrics.framesIn.increment();
        hub.metrics.bytesIn.add(content.readableBytes());
        byte[] bytes = ByteBufUtil.getBytes(content);
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                if (state == State.CLOSING || state == State.CLOSED) {
                    return;
                }
                onLine(bytes, start, i);
                start = i + 1;
            }
        }
        flush();
    }

    private void onLine(byte[] bytes, int from, int to) {
        if (isBlank(bytes, from, to)) {
            return;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(bytes, from, to - from);
        } catch (JsonProcessingException e) {
            violation("message is not valid JSON: " + e.getOriginalMessage());
            return;
        } catch (IOException e) {
            violation("message could not be read: " + e.getMessage());
            return;
        }
        if (node == null || !node.isObject()) {
            violation("a message must be a JSON object");
            return;
        }
        JsonNode op = node.get("op");
        if (op == null || !op.isTextual()) {
            violation("message has no 'op' string");
            return;
        }
        if (state == State.CONNECTING) {
            deferred.add(node);
            return;
        }
        commands.handle(node);
    }

    private static boolean isBlank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != ' ' && b[i] != '\r' && b[i] != '\t') {
                return false;
            }
        }
        return true;
    }

    private void onClose(CloseWebSocketFrame close) {
        int code = close.statusCode();
        if (state != State.CLOSING && code == WebSocketCloseStatus.NORMAL_CLOSURE.code()) {
            fate = fate == SessionFate.MOVED ? fate : SessionFate.END;
        }
        if (state == State.CLOSING) {
            ctx.close();
            return;
        }
        state = State.CLOSING;
        CloseWebSocketFrame echo = new CloseWebSocketFrame(code == -1 ? WebSocketCloseStatus.NORMAL_CLOSURE.code() : code, "");
        ctx.writeAndFlush(echo).addListener(ChannelFutureListener.CLOSE);
    }

    void pong() {
        pongSeq = pingSeq;
    }

    /** The frame cannot be answered by id: error push, then 4500. */
    void violation(String message) {
        hub.metrics.protocolErrors.increment();
        log.debug("protocol violation by {}: {}", clientId != null ? clientId : ctx.channel().remoteAddress(), message);
        sendPush(Json.write(ctx.alloc(), g -> {
            g.writeStartObject();
            g.writeStringField("op", "error");
            g.writeNumberField("code", ErrorCode.BAD_REQUEST.code());
            g.writeStringField("message", message);
            g.writeEndObject();
        }));
        disconnect(CloseCode.PROTOCOL_VIOLATION, message, -1);
    }

    // --- outbound --------------------------------------------------------------------------------

    void reply(long id, Json.JsonBody resultFields) {
        sendPush(Json.write(ctx.alloc(), g -> {
            g.writeStartObject();
            g.writeNumberField("id", id);
            g.writeObjectFieldStart("result");
            resultFields.write(g);
            g.writeEndObject();
            g.writeEndObject();
        }));
    }

    void replyError(long id, ProtocolException e) {
        sendPush(Json.write(ctx.alloc(), g -> {
            g.writeStartObject();
            g.writeNumberField("id", id);
            g.writeObjectFieldStart("error");
            g.writeNumberField("code", e.code().code());
            g.writeStringField("message", e.getMessage());
            g.writeBooleanField("temporary", e.code().temporary());
            if (e.retryAfterMillis() >= 0) {
                g.writeNumberField("retryAfter", e.retryAfterMillis());
            }
            g.writeEndObject();
            g.writeEndObject();
        }));
    }

    /** Queues one JSON message (taking ownership of the buffer) into the current outgoing batch. */
    void sendPush(ByteBuf json) {
        if (state == State.CLOSED || ctx == null) {
            json.release();
            return;
        }
        int n = json.readableBytes();
        if (pending != null && pendingBytes + 1 + n > MAX_BATCH_BYTES) {
            writePending();
        }
        if (pending == null) {
            pending = ctx.alloc().compositeDirectBuffer(64);
            pending.addComponent(true, json);
            pendingBytes = n;
        } else {
            pending.addComponent(true, NEWLINE.duplicate());
            pending.addComponent(true, json);
            pendingBytes += 1 + n;
        }
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (out != null && out.totalPendingWriteBytes() + pendingBytes > hub.config.maxPendingWriteBytes()
                && state != State.CLOSING) {
            hub.metrics.slowConsumerEvents.increment();
            disconnect(CloseCode.SLOW_CONSUMER, "too many replies and pushes waiting to be written", jitter(1000));
        }
    }

    private void writePending() {
        if (pending != null) {
            writeFrame(pending, pendingBytes);
            pending = null;
            pendingBytes = 0;
        }
    }

    private void writeFrame(ByteBuf payload, int bytes) {
        hub.metrics.framesOut.increment();
        hub.metrics.bytesOut.add(bytes);
        ctx.write(new TextWebSocketFrame(payload), ctx.voidPromise());
    }

    /** Writes the pending batch and flushes the socket. */
    void flush() {
        if (ctx == null || state == State.CLOSED) {
            return;
        }
        writePending();
        ctx.flush();
    }

    /**
     * Writes what {@code s} has not yet received, from its position forward, while the socket is
     * writable and the client's window allows. Called on the event loop.
     */
    void deliver(Subscription s) {
        if (state != State.CONNECTED || !s.active) {
            return;
        }
        long top = s.stream.top();
        if (s.cursor > top) {
            return;
        }
        if (s.cursor < s.stream.first() && !ctx.channel().isWritable()) {
            // Stalled and already behind history: it can never catch up, tell it now.
            fellOutOfHistory(s);
            return;
        }
        writePending();
        int window = hub.config.window();
        CompositeByteBuf batch = null;
        Publication single = null;
        int batchBytes = 0;
        int count = 0;
        long delivered = 0;
        while (s.cursor <= top && ctx.channel().isWritable() && (!s.ackSeen || s.cursor - 1 - s.acked < window)) {
            Publication p = s.stream.get(s.cursor);
            if (p == null) {
                fellOutOfHistory(s);
                break;
            }
            if (single == null && batch == null) {
                single = p;
            } else {
                if (batch == null) {
                    batch = ctx.alloc().compositeDirectBuffer(MAX_BATCH_PUBLICATIONS * 2);
                    batch.addComponent(true, single.push());
                    single = null;
                }
                batch.addComponent(true, NEWLINE.duplicate());
                batch.addComponent(true, p.push());
                batchBytes++;
            }
            batchBytes += p.pushLength();
            count++;
            s.written = s.cursor++;
            if (batchBytes >= MAX_BATCH_BYTES || count >= MAX_BATCH_PUBLICATIONS) {
                writeFrame(single != null ? single.push() : batch, batchBytes);
                delivered += count;
                single = null;
                batch = null;
                batchBytes = 0;
                count = 0;
            }
        }
        if (count > 0) {
            writeFrame(single != null ? single.push() : batch, batchBytes);
            delivered += count;
        } else if (batch != null) {
            batch.release();
        }
        hub.metrics.deliveries.add(delivered);
        ctx.flush();
    }

    private void fellOutOfHistory(Subscription s) {
        hub.metrics.slowConsumerEvents.increment();
        log.info("client {} fell out of history of {} at offset {} (first kept {})", clientId, s.channel, s.cursor,
                s.stream.first());
        disconnect(CloseCode.SLOW_CONSUMER, "fell out of history of " + s.channel, jitter(1000));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            for (Subscription s : List.copyOf(subscriptions.values())) {
                deliver(s);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Says goodbye with a {@code disconnect} push and a close frame carrying the same code, then
     * closes the socket when the client answers or after a short grace period.
     */
    void disconnect(CloseCode code, String reason, long retryAfterMillis) {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        if (!code.keepsSession() && fate != SessionFate.MOVED) {
            fate = SessionFate.END;
        }
        hub.metrics.disconnect(code);
        log.info("closing client {} session {} with {} ({})", clientId, sessionId, code.code(), reason);
        sendPush(Json.write(ctx.alloc(), g -> {
            g.writeStartObject();
            g.writeStringField("op", "disconnect");
            g.writeNumberField("code", code.code());
            g.writeStringField("reason", reason);
            g.writeBooleanField("reconnect", code.reconnect());
            if (retryAfterMillis >= 0) {
                g.writeNumberField("retryAfter", retryAfterMillis);
            }
            g.writeEndObject();
        }));
        state = State.CLOSING;
        closeFrame(code.code(), reason);
    }

    /** Closes with a plain WebSocket code (1003, ...) after a client error; the session ends. */
    void closeWith(int wsCode, String reason) {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        if (fate != SessionFate.MOVED) {
            fate = SessionFate.END;
        }
        hub.metrics.close(wsCode);
        state = State.CLOSING;
        closeFrame(wsCode, reason);
    }

    private void closeFrame(int code, String reason) {
        cancel(pingTimer);
        cancel(pongTimer);
        cancel(connectTimer);
        writePending();
        String shortReason = reason.length() > 120 ? reason.substring(0, 120) : reason;
        ctx.writeAndFlush(new CloseWebSocketFrame(code, shortReason));
        hub.timer.newTimeout(t -> onLoop(ctx::close), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    // --- heartbeat -------------------------------------------------------------------------------

    void connected() {
        state = State.CONNECTED;
        cancel(connectTimer);
        schedulePing();
    }

    private void schedulePing() {
        pingTimer = hub.timer.newTimeout(t -> onLoop(this::ping), hub.config.pingInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void ping() {
        if (state != State.CONNECTED) {
            return;
        }
        long seq = ++pingSeq;
        sendPush(PING.duplicate());
        flush();
        pongTimer = hub.timer.newTimeout(t -> onLoop(() -> checkPong(seq)), hub.config.pongTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        schedulePing();
    }

    private void checkPong(long seq) {
        if (state == State.CONNECTED && pongSeq < seq) {
            disconnect(CloseCode.NO_PONG, "no pong within " + hub.config.pongTimeout().toMillis() + " ms", jitter(1000));
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** Runs {@code task} on this connection's loop (now if already there), then flushes. */
    void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else if (!loop.isShuttingDown()) {
            loop.execute(() -> {
                task.run();
                flush();
            });
        }
    }

    /** Publication rate limit per connection (token bucket); false when over it. */
    boolean allowPublish() {
        int rate = hub.config.maxPublishRate();
        if (rate <= 0) {
            return true;
        }
        long now = System.nanoTime();
        if (publishRefillNanos == 0) {
            publishTokens = rate;
        } else {
            publishTokens = Math.min(rate, publishTokens + (now - publishRefillNanos) / 1e9 * rate);
        }
        publishRefillNanos = now;
        if (publishTokens >= 1) {
            publishTokens--;
            return true;
        }
        return false;
    }

    long publishRetryAfterMillis() {
        int rate = Math.max(1, hub.config.maxPublishRate());
        return (long) Math.ceil((1 - publishTokens) * 1000.0 / rate);
    }

    void setAutoRead(boolean on) {
        ctx.channel().config().setAutoRead(on);
    }

    static long jitter(long maxMillis) {
        return maxMillis <= 0 ? 0 : ThreadLocalRandom.current().nextLong(maxMillis + 1);
    }

    private static void cancel(Timeout t) {
        if (t != null) {
            t.cancel();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
            closeWith(WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), "message larger than " + hub.config.maxFrameBytes() + " bytes");
            return;
        }
        if (cause instanceof io.netty.handler.codec.CorruptedFrameException) {
            log.debug("corrupted frame from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
            if (state != State.CLOSING) {
                fate = fate == SessionFate.MOVED ? fate : SessionFate.END;
            }
            return;
        }
        if (cause instanceof IOException) {
            log.debug("I/O error on {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        } else {
            log.warn("unexpected error on connection {} ({})", clientId, ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }

    long pendingWriteBytes() {
        ChannelHandlerContext c = ctx;
        ChannelOutboundBuffer out = c == null ? null : c.channel().unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    boolean isConnected() {
        return state == State.CONNECTED;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }
}
