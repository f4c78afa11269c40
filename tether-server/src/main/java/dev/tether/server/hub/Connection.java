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
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
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
public final class Connection extends ChannelInboundHandlerAdapter implements Heartbeats.Member {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    /**
     * Where Netty's protocol handler keeps the handshaker (the same key: keys are interned by name).
     * Nothing reads it once that handler is gone, and it holds the request URI and subprotocol
     * strings, so it is cleared after the handshake.
     */
    private static final AttributeKey<WebSocketServerHandshaker> HANDSHAKER =
            AttributeKey.valueOf(WebSocketServerHandshaker.class, "HANDSHAKER");
    /** Replies and pushes are batched into one frame up to this many bytes. */
    static final int MAX_BATCH_BYTES = WireFrames.MAX_BATCH_BYTES;
    /** How long a client gets to answer our close frame before the socket is closed anyway. */
    static final long CLOSE_GRACE_MILLIS = 1000;
    public static final long CLOSE_GRACE_MILLIS_PUBLIC = CLOSE_GRACE_MILLIS;
    private static final ByteBuf NEWLINE = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(1).writeByte('\n').asReadOnly());
    enum State { AWAITING_CONNECT, CONNECTING, CONNECTED, CLOSING, CLOSED }

    /** What happens to the session when the socket goes away. */
    enum SessionFate { KEEP, END, MOVED }

    /** The payload of the latest WebSocket Ping received while the socket was not writable. */
    private ByteBuf unansweredPing;

    final Hub hub;
    private final CommandHandler commands;
    private ChannelHandlerContext ctx;
    /**
     * Where pre-framed bytes are written: the frame encoder's context, so that they go on toward
     * the socket without passing through the encoder (which would only forward them). Frames that
     * need encoding are written to {@link #ctx}. Writes through both are synchronous on the event
     * loop, so their order on the socket is the order of the calls.
     */
    private ChannelHandlerContext wire;
    private EventLoop loop;
    State state = State.AWAITING_CONNECT;
    SessionFate fate = SessionFate.KEEP;
    String sessionId;
    String clientId;
    String user = "";
    String infoJson;
    final Map<String, Subscription> subscriptions = new LinkedHashMap<>(4);
    /** Ids of commands whose reply is still pending (async storage). */
    private Set<Long> outstanding;
    /** Messages that arrived while connect was still being decided; replayed in order after it. */
    private ArrayDeque<JsonNode> deferred;
    private CompositeByteBuf pending;
    /** A fragmented text message being reassembled; null otherwise. */
    private CompositeByteBuf fragments;
    /** Set once our close frame (or the echo of the client's) is written: nothing may follow it. */
    private boolean closeSent;
    private int pendingBytes;
    /** Heartbeat deadlines in System.nanoTime() terms; 0 = none. Checked by {@link #tick}. */
    private long nextPing;
    private long pongDeadline;
    private long connectDeadline;
    /** This connection's place in its loop's {@link Heartbeats}; -1 when not in it. */
    private int heartbeatSlot = -1;
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
        this.wire = ctx;
        this.loop = ctx.channel().eventLoop();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            // From here on this handler answers pings and reassembles fragments itself.
            if (ctx.pipeline().get(WebSocketServerProtocolHandler.class) != null) {
                ctx.pipeline().remove(WebSocketServerProtocolHandler.class);
            }
            ctx.channel().attr(HANDSHAKER).set(null);
            ChannelHandlerContext encoder = ctx.pipeline().context(WebSocketFrameEncoder.class);
            if (encoder != null) {
                wire = encoder;
            }
            boolean admitted = hub.register(this);
            if (hub.draining()) {
                disconnect(CloseCode.SHUTDOWN, "server is shutting down", jitter(1000));
            } else if (!admitted) {
                disconnect(CloseCode.OVERLOADED, "connection limit reached", 5000 + jitter(5000));
            } else {
                connectDeadline = System.nanoTime() + hub.config.connectTimeout().toNanos();
                hub.heartbeats(loop).add(this);
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
        if (heartbeatSlot >= 0) {
            hub.heartbeats(loop).remove(this);
        }
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (unansweredPing != null) {
            unansweredPing.release();
            unansweredPing = null;
        }
        if (fragments != null) {
            fragments.release();
            fragments = null;
        }
        hub.unregister(this);
        if (sessionId != null && fate != SessionFate.MOVED && (was == State.CONNECTED || was == State.CLOSING)) {
            // Saved before the hub forgets the holder, so a racing resume finds it in one place or the other.
            SessionState saved = releaseSession(fate != SessionFate.END);
            if (fate == SessionFate.END) {
                for (SessionState.SubscriptionState s : saved.subscriptions()) {
                    hub.presence.leave(s.channel(), clientId);
                }
                log.debug("client {} session {} ended", clientId, sessionId);
            } else {
                log.debug("client {} session {} detached, kept {} ms for resume", clientId, sessionId,
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

    /**
     * Another connection of {@code claimant} resumes our session: hand it over and close with 4502.
     * Nothing happens (null) for another user's claim. Any thread.
     */
    CompletableFuture<SessionState> handOver(String id, String claimant) {
        CompletableFuture<SessionState> result = new CompletableFuture<>();
        Runnable task = () -> {
            // Nothing to hand over: another session, one already moved or ended (closed with 1000 or
            // 4500+ and in its close grace: protocol.md H says it ended), or another user's claim.
            if (!id.equals(sessionId) || fate == SessionFate.MOVED || fate == SessionFate.END || state == State.CLOSED
                    || !Objects.equals(claimant, user)) {
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
                ByteBuf content = text.content();
                if (!text.isFinalFragment()) {
                    startFragments(content);
                } else if (state == State.CONNECTED && WireFrames.isPong(content)) {
                    // The most common message by far: answered without parsing or copying.
                    hub.metrics.framesIn.increment();
                    hub.metrics.bytesIn.add(WireFrames.PONG.length);
                    pong();
                } else {
                    onText(content);
                }
            } else if (msg instanceof ContinuationWebSocketFrame more) {
                onContinuation(more);
            } else if (msg instanceof PingWebSocketFrame ping) {
                // At once while the socket drains; else only the latest ping is kept and answered once
                // it drains (RFC 6455 5.5.3), so a client that pings and never reads cannot grow the
                // server's memory with pongs, and one that is catching up still gets its pong.
                if (!closeSent && ctx.channel().isWritable()) {
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()), ctx.voidPromise());
                } else if (!closeSent) {
                    if (unansweredPing != null) {
                        unansweredPing.release();
                    }
                    unansweredPing = ping.content().retain();
                }
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
        // RFC 6455 5.6/8.1: text must be UTF-8. Checked here on the whole message (fragments are
        // reassembled first) instead of by a per-connection validator handler in the pipeline.
        if (!ByteBufUtil.isText(content, StandardCharsets.UTF_8)) {
            closeWith(WebSocketCloseStatus.INVALID_PAYLOAD_DATA.code(), "text is not valid UTF-8");
            return;
        }
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
        if (WireFrames.isBlank(bytes, from, to)) {
            return;
        }
        JsonNode node;
        try {
            node = Json.readMessage(bytes, from, to - from, "data");
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
            if (deferred == null) {
                deferred = new ArrayDeque<>(4);
            }
            deferred.add(node);
            return;
        }
        commands.handle(node);
    }

    /** The first part of a fragmented text message: collected until the final continuation. */
    private void startFragments(ByteBuf first) {
        if (fragments != null) {
            fragments.release(); // the frame decoder already refuses this; never keep two
        }
        fragments = ctx.alloc().compositeBuffer(16);
        appendFragment(first);
    }

    private void onContinuation(ContinuationWebSocketFrame more) {
        if (fragments == null) {
            return; // the rest of a binary message, which was already refused
        }
        if (!appendFragment(more.content()) || !more.isFinalFragment()) {
            return;
        }
        CompositeByteBuf whole = fragments;
        fragments = null;
        try {
            onText(whole);
        } finally {
            whole.release();
        }
    }

    private boolean appendFragment(ByteBuf part) {
        if (fragments.readableBytes() + part.readableBytes() > hub.config.maxFrameBytes()) {
            fragments.release();
            fragments = null;
            closeWith(WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), "message larger than " + hub.config.maxFrameBytes() + " bytes");
            return false;
        }
        fragments.addComponent(true, part.retain());
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
        writePending();
        closeSent = true;
        CloseWebSocketFrame echo = new CloseWebSocketFrame(code == -1 ? WebSocketCloseStatus.NORMAL_CLOSURE.code() : code, "");
        ctx.writeAndFlush(echo).addListener(ChannelFutureListener.CLOSE);
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

    // The sets below are created on first use: most connections never need them.

    boolean isOutstanding(long id) {
        return outstanding != null && outstanding.contains(id);
    }

    void addOutstanding(long id) {
        if (outstanding == null) {
            outstanding = new HashSet<>(4);
        }
        outstanding.add(id);
    }

    void removeOutstanding(long id) {
        if (outstanding != null && outstanding.remove(id) && outstanding.isEmpty()) {
            outstanding = null;
        }
    }

    /** The next message that arrived while connect was being decided, or null. */
    JsonNode nextDeferred() {
        JsonNode next = deferred == null ? null : deferred.poll();
        if (next == null) {
            deferred = null;
        }
        return next;
    }

    void dropDeferred() {
        deferred = null;
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
        if (state == State.CLOSED || ctx == null || closeSent) {
            json.release();
            return;
        }
        int n = json.readableBytes();
        // What already waits for this client, before this message: one large reply (a history page,
        // a presence list) to a client that reads is not a slow consumer (protocol.md F).
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        boolean overLimit = out != null && out.totalPendingWriteBytes() + (pending == null ? 0 : pendingBytes)
                > hub.config.maxPendingWriteBytes();
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
        if (overLimit && state != State.CLOSING) {
            slowConsumer("too many replies and pushes waiting to be written", "");
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
        wire.flush();
    }

    /**
     * Flushes unless every byte already went straight to the socket ({@link WireFrames#writeNow}):
     * a flush with nothing queued would still walk the pipeline once per delivery.
     */
    private void flushIfQueued() {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (out == null || out.totalPendingWriteBytes() != 0) {
            wire.flush();
        }
    }

    /**
     * Writes what {@code s} has not yet received, from its position forward, while the socket is
     * writable and the client's window allows. Called on the event loop.
     *
     * <p>One publication goes out as its own pre-built frame (a view of the stored bytes). When
     * several are waiting, up to {@link WireFrames#MAX_BATCH_PUBLICATIONS} or {@link #MAX_BATCH_BYTES}
     * share one frame ({@link WireFrames#writeBatch}). Everything is flushed once, so a pass costs one
     * system call however many publications it carries.
     */
    void deliver(Subscription s) {
        if (state != State.CONNECTED || !s.active) {
            return;
        }
        long top = s.stream.top();
        if (s.cursor > top) {
            return;
        }
        int window = hub.config.window();
        boolean windowFull = s.ackSeen && s.cursor - 1 - s.acked >= window;
        if (s.cursor < s.stream.first() && (windowFull || !ctx.channel().isWritable())) {
            // Stalled (by its socket or its window) and already behind history: it can never catch
            // up, tell it now (protocol.md F).
            fellOutOfHistory(s);
            return;
        }
        writePending();
        Publication[] batch = WireFrames.BATCH.get();
        long delivered = 0;
        boolean lost = false;
        while (!lost && s.cursor <= top && ctx.channel().isWritable()) {
            int count = 0;
            int bytes = -1;
            boolean full = false;
            while (count < WireFrames.MAX_BATCH_PUBLICATIONS && s.cursor <= top
                    && (!s.ackSeen || s.cursor - 1 - s.acked < window)) {
                Publication p = s.stream.get(s.cursor);
                if (p == null) {
                    lost = true;
                    break;
                }
                if (count > 0 && bytes + 1 + p.pushLength() > MAX_BATCH_BYTES) {
                    full = true; // a frame holds at most MAX_BATCH_BYTES (protocol.md A); the rest goes next
                    break;
                }
                batch[count++] = p;
                bytes += 1 + p.pushLength();
                s.written = s.cursor++;
            }
            if (count == 0) {
                break;
            }
            hub.metrics.framesOut.increment();
            hub.metrics.bytesOut.add(bytes);
            WireFrames.writeBatch(wire, batch, count, bytes);
            delivered += count;
            if (count < WireFrames.MAX_BATCH_PUBLICATIONS && !full) {
                break; // stopped by the end of the log or the client's window
            }
        }
        if (lost) {
            fellOutOfHistory(s);
        }
        hub.metrics.deliveries.add(delivered);
        flushIfQueued();
    }

    private void fellOutOfHistory(Subscription s) {
        slowConsumer("fell out of history of " + s.channel,
                " at offset " + s.cursor + " (first kept " + s.stream.first() + ")");
    }

    /**
     * Closes this connection with 4002 and {@code reason}. Logged per client at DEBUG; at WARN once a
     * minute with the count since the last, since an overloaded server may close thousands at once.
     */
    private void slowConsumer(String reason, String detail) {
        hub.metrics.slowConsumerEvents.increment();
        log.debug("client {} is a slow consumer: {}{}", clientId, reason, detail);
        long closed = hub.slowConsumerWarning.count(1);
        if (closed > 0) {
            log.warn("{} slow consumer(s) closed with 4002 since the last warning, the latest client {}: {}{}. They"
                    + " read slower than their channels publish; raise history-size or history-age (or"
                    + " max-pending-write-bytes), or find what slows those clients. Logged at most once a minute;"
                    + " tether_slow_consumer_events_total counts every one.", closed, clientId, reason, detail);
        }
        disconnect(CloseCode.SLOW_CONSUMER, reason, jitter(1000));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && unansweredPing != null) {
            ByteBuf payload = unansweredPing;
            unansweredPing = null;
            if (closeSent) {
                payload.release();
            } else {
                ctx.writeAndFlush(new PongWebSocketFrame(payload), ctx.voidPromise());
            }
        }
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
        log.debug("closing client {} session {} with {} ({})", clientId, sessionId, code.code(), reason);
        // CLOSING before the push: queueing it must not find the connection over a limit and
        // disconnect it again from inside this call.
        state = State.CLOSING;
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
        connectDeadline = 0;
        pongDeadline = 0;
        writePending();
        closeSent = true;
        String shortReason = reason.length() > 120 ? reason.substring(0, 120) : reason;
        ctx.writeAndFlush(new CloseWebSocketFrame(code, shortReason));
        ctx.executor().schedule(() -> {
            ctx.close();
        }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    // --- heartbeat -------------------------------------------------------------------------------
    // No timer per connection: the event loop's Heartbeats sweep calls tick() when the earliest of
    // the deadlines below is due. One that moves earlier calls Heartbeats.update; one that moves
    // later needs no notice (the tick finds nothing to do), but the pong gives it anyway (pong()).

    void connected() {
        state = State.CONNECTED;
        connectDeadline = 0;
        nextPing = System.nanoTime() + hub.config.pingInterval().toNanos();
        if (heartbeatSlot >= 0) {
            hub.heartbeats(loop).update(this);
        }
    }

    /** The earliest heartbeat deadline of this connection, for the sweep. */
    @Override
    public long nextDue(long now) {
        long due = now + Heartbeats.NEVER;
        if (connectDeadline != 0 && connectDeadline - due < 0) {
            due = connectDeadline;
        }
        if (state == State.CONNECTED) {
            if (pongDeadline != 0 && pongDeadline - due < 0) {
                due = pongDeadline;
            }
            if (nextPing - due < 0) {
                due = nextPing;
            }
        }
        return due;
    }

    /** Called by the loop's heartbeat sweep with the sweep's clock reading. */
    @Override
    public void tick(long now) {
        if (connectDeadline != 0 && now - connectDeadline >= 0) {
            connectDeadline = 0;
            connectTimedOut();
        } else if (state == State.CONNECTED) {
            if (pongDeadline != 0 && now - pongDeadline >= 0) {
                pongDeadline = 0;
                disconnect(CloseCode.NO_PONG, "no pong within " + hub.config.pongTimeout().toMillis() + " ms", jitter(1000));
            } else if (now - nextPing >= 0) {
                ping(now);
            }
        }
    }

    private void ping(long now) {
        long interval = hub.config.pingInterval().toNanos();
        nextPing += interval;
        if (now - nextPing >= 0) {
            nextPing = now + interval; // the loop was stalled; do not send a burst
        }
        if (pongDeadline == 0) {
            pongDeadline = now + hub.config.pongTimeout().toNanos();
        }
        writePending();
        hub.metrics.framesOut.increment();
        hub.metrics.bytesOut.add(WireFrames.PING.length);
        WireFrames.writePing(wire);
        flushIfQueued();
    }

    void pong() {
        pongDeadline = 0;
        if (heartbeatSlot >= 0) {
            // Move this connection's entry in the sweep to its next ping now, while the object is
            // in cache: else the sweep would visit it cold at the old pong deadline to do nothing.
            hub.heartbeats(loop).update(this);
        }
    }

    @Override
    public int heartbeatSlot() {
        return heartbeatSlot;
    }

    @Override
    public void heartbeatSlot(int slot) {
        heartbeatSlot = slot;
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
