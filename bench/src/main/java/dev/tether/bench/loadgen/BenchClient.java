package dev.tether.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One simulated client: connects with a session, subscribes, answers pings, acknowledges, and
 * (for publishers) publishes. Resumes its session after a cut.
 *
 * <p>Owner: its event loop. Every field is touched only there; the driver reads them through
 * tasks submitted to the loop ({@link LocalFleet#sum}).
 */
@ChannelHandler.Sharable // one connection at a time, but a reconnect's pipeline is built while the old one closes
public final class BenchClient extends ChannelInboundHandlerAdapter {
    static final String SUBPROTOCOL = "tether.v1.json";
    static final long CONNECT_ID = 1;
    static final long SUBSCRIBE_ID_BASE = 1000;
    static final long PUBLISH_ID_BASE = 1_000_000;
    private static final int MAX_FRAME_BYTES = 1 << 20;
    private static final int MAX_RECONNECT_ATTEMPTS = 12;
    private static final long MAX_BACKOFF_MILLIS = 5000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ByteBuf PONG = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(16).writeBytes(Scan.ascii("{\"op\":\"pong\"}")).asReadOnly());

    enum State { IDLE, CONNECTING, OPEN, READY, CUT, CLOSED, GAVE_UP }

    final LocalFleet fleet;
    final int index;
    final EventLoop loop;
    final InetSocketAddress local;
    final SubState[] subs;
    Publisher publisher;
    State state = State.IDLE;
    private Channel channel;
    private WebSocketClientHandshaker handshaker;
    private String session;
    private int attempts;
    private boolean everReady;
    private boolean reconnecting;
    private boolean recoveryRecorded;
    private long cutNanos;
    /** When the first reconnect attempt after a cut is due (System.nanoTime). */
    private long reconnectDueNanos;
    /** Something was written since the last flush (a flush per read would cost a call per delivery). */
    private boolean unflushed;
    private final int[] stop = new int[1];

    BenchClient(LocalFleet fleet, int index, EventLoop loop, InetSocketAddress local, SubState[] subs) {
        this.fleet = fleet;
        this.index = index;
        this.loop = loop;
        this.local = local;
        this.subs = subs;
    }

    // --- connecting -------------------------------------------------------------------------------

    /** Starts a connection attempt. Event loop only. */
    void connect() {
        if (state == State.CLOSED || state == State.GAVE_UP || fleet.closing) {
            return;
        }
        state = State.CONNECTING;
        attempts++;
        fleet.stats.connectAttempts.increment();
        if (reconnecting && attempts == 1) {
            long now = System.nanoTime();
            fleet.stats.reconnectAtMillis.recordValue(Math.max(1, (now - cutNanos) / 1_000_000));
            fleet.stats.reconnectLateMillis.recordValue(Math.max(0, (now - reconnectDueNanos) / 1_000_000));
        }
        ChannelFuture f = fleet.bootstrap(loop, this).connect(fleet.remote, local);
        channel = f.channel();
        f.addListener(done -> {
            if (!done.isSuccess()) {
                if (System.getenv("BENCH_DEBUG") != null) {
                    done.cause().printStackTrace();
                }
                fleet.stats.connectFailures.increment();
                retryOrGiveUp();
            }
        });
    }

    private void retryOrGiveUp() {
        if (state == State.CLOSED || fleet.closing) {
            return;
        }
        if (!reconnecting || attempts >= MAX_RECONNECT_ATTEMPTS) {
            state = State.GAVE_UP;
            fleet.stats.reconnectGiveUps.increment();
            return;
        }
        state = State.CUT;
        long cap = Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(attempts, 10));
        loop.schedule(this::connect, ThreadLocalRandom.current().nextLong(cap / 2, cap + 1), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        handshaker = WebSocketClientHandshakerFactory.newHandshaker(fleet.uri, WebSocketVersion.V13, SUBPROTOCOL, false,
                EmptyHttpHeaders.INSTANCE, MAX_FRAME_BYTES);
        handshaker.handshake(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof TextWebSocketFrame text) {
                onFrame(text.content(), text.content().readerIndex(), text.content().writerIndex());
                frameBatchDone();
            } else if (msg instanceof FullHttpResponse response) {
                handshaker.finishHandshake(ctx.channel(), response);
                handshaker = null;
                ctx.pipeline().replace("ws-decoder", "ws-scanner", new FrameScanner(this));
                onOpen();
            } else if (msg instanceof CloseWebSocketFrame) {
                ctx.close();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onOpen() {
        state = State.OPEN;
        attempts = 0;
        fleet.stats.handshakes.increment();
        StringBuilder hello = new StringBuilder(96);
        hello.append("{\"id\":").append(CONNECT_ID).append(",\"op\":\"connect\",\"name\":\"bench\"");
        if (session != null) {
            hello.append(",\"session\":\"").append(session).append('"');
        }
        hello.append('}');
        if (session == null) {
            // Pipelined: the server handles lines in order, so subscribe right behind connect.
            for (int j = 0; j < subs.length; j++) {
                hello.append("\n{\"id\":").append(SUBSCRIBE_ID_BASE + j).append(",\"op\":\"subscribe\",\"channel\":\"")
                        .append(subs[j].channel).append("\"}");
            }
        }
        send(hello);
    }

    private void send(CharSequence lines) {
        ByteBuf buf = channel.alloc().buffer(lines.length());
        ByteBufUtil.writeAscii(buf, lines);
        channel.writeAndFlush(new TextWebSocketFrame(buf), channel.voidPromise());
    }

    void write(ByteBuf lines) {
        channel.write(new TextWebSocketFrame(lines), channel.voidPromise());
        unflushed = true;
    }

    void flush() {
        unflushed = false;
        channel.flush();
    }

    boolean writable() {
        return state == State.READY && channel.isActive();
    }

    // --- inbound ----------------------------------------------------------------------------------

    /** One text frame's payload, {@code buf[from, end)}. */
    void onFrame(ByteBuf buf, int from, int end) {
        fleet.stats.frames.increment();
        int i = from;
        long now = 0;
        int delivered = 0;
        while (i < end) {
            int e = Scan.lineEnd(buf, i, end);
            if (Scan.startsWith(buf, i, e, Scan.PUB, Scan.PUB_WORDS)) {
                if (now == 0) {
                    now = System.nanoTime();
                }
                if (onPub(buf, i, e, now)) {
                    delivered++;
                }
            } else if (Scan.startsWith(buf, i, e, Scan.REPLY)) {
                onReply(buf, i, e);
            } else if (Scan.equalsAt(buf, i, e, Scan.PING)) {
                fleet.stats.pings.increment();
                channel.write(new TextWebSocketFrame(PONG.duplicate()), channel.voidPromise());
                unflushed = true;
            } else if (Scan.startsWith(buf, i, e, Scan.DISCONNECT)) {
                long code = Scan.number(buf, i + Scan.DISCONNECT.length, e, stop);
                fleet.stats.disconnect((int) code);
            } else if (e > i) {
                fleet.stats.unparsed.increment();
            }
            i = e + 1;
        }
        if (delivered > 0) {
            fleet.stats.deliveries.add(delivered);
            if (reconnecting && !recoveryRecorded) {
                checkRecovered();
            }
        }
    }

    /** After the frames of one read: top up publishes, flush pongs and acks. */
    void frameBatchDone() {
        if (publisher != null) {
            publisher.refill();
        }
        if (unflushed) {
            flush();
        }
    }

    private boolean onPub(ByteBuf buf, int from, int to, long now) {
        int cs = from + Scan.PUB.length;
        int ce = Scan.indexOf(buf, cs, to, (byte) '"');
        if (ce < 0 || !Scan.startsWith(buf, ce + 1, to, Scan.OFFSET_FIELD, Scan.OFFSET_WORDS)) {
            fleet.stats.unparsed.increment();
            return false;
        }
        long offset = Scan.number(buf, ce + 1 + Scan.OFFSET_FIELD.length, to, stop);
        int p = stop[0];
        SubState s = match(buf, cs, ce);
        if (s == null || offset == Scan.NONE) {
            fleet.stats.unparsed.increment();
            return false;
        }
        s.receive(offset);
        if (Scan.startsWith(buf, p, to, Scan.DATA_T, Scan.DATA_T_WORDS)) {
            long t = Scan.number(buf, p + Scan.DATA_T.length, to, stop);
            if (t != Scan.NONE) {
                fleet.stats.latency.recordValue(Math.min(FleetStats.MAX_MICROS, Math.max(1, (now - t) / 1000)));
            }
        }
        return true;
    }

    private SubState match(ByteBuf buf, int from, int to) {
        for (SubState s : subs) {
            if (Scan.equalsAt(buf, from, to, s.channelBytes)) {
                return s;
            }
        }
        return null;
    }

    private void onReply(ByteBuf buf, int from, int to) {
        long id = Scan.number(buf, from + Scan.REPLY.length, to, stop);
        if (id >= PUBLISH_ID_BASE && publisher != null) {
            publisher.onReply(id, buf, stop[0], to);
            return;
        }
        JsonNode reply;
        try {
            reply = JSON.readTree(buf.toString(from, to - from, StandardCharsets.UTF_8));
        } catch (IOException e) {
            fleet.stats.unparsed.increment();
            return;
        }
        if (reply.has("error")) {
            fleet.stats.errorReplies.increment();
            if (id >= SUBSCRIBE_ID_BASE) {
                fleet.stats.subscribeErrors.increment();
            }
            return;
        }
        JsonNode result = reply.path("result");
        if (id == CONNECT_ID) {
            onConnected(result);
        } else if (id >= SUBSCRIBE_ID_BASE && id < SUBSCRIBE_ID_BASE + subs.length) {
            onSubscribed(subs[(int) (id - SUBSCRIBE_ID_BASE)], result);
        }
    }

    private void onConnected(JsonNode result) {
        session = result.path("session").asText(null);
        state = State.READY;
        if (!everReady) {
            everReady = true;
            fleet.stats.sessions.increment();
            if (publisher != null) {
                publisher.start();
            }
            return;
        }
        long now = System.nanoTime();
        if (result.path("resumed").asBoolean()) {
            fleet.stats.resumed.increment();
            fleet.stats.resumeMillis.recordValue(Math.max(1, (now - cutNanos) / 1_000_000));
            for (JsonNode r : result.path("subscriptions")) {
                for (SubState s : subs) {
                    if (s.channel.equals(r.path("channel").asText())) {
                        s.recoverTarget = r.path("offset").asLong();
                        s.epoch = r.path("epoch").asText(s.epoch);
                    }
                }
            }
            checkRecovered();
        } else {
            // The session is gone (for example the server restarted): subscribe again from our offsets.
            fleet.stats.notResumed.increment();
            StringBuilder lines = new StringBuilder();
            for (int j = 0; j < subs.length; j++) {
                SubState s = subs[j];
                s.recoverTarget = Long.MAX_VALUE;
                if (j > 0) {
                    lines.append('\n');
                }
                lines.append("{\"id\":").append(SUBSCRIBE_ID_BASE + j).append(",\"op\":\"subscribe\",\"channel\":\"")
                        .append(s.channel).append("\",\"since\":{\"offset\":").append(s.last).append(",\"epoch\":\"")
                        .append(s.epoch).append("\"}}");
            }
            send(lines);
        }
    }

    private void onSubscribed(SubState s, JsonNode result) {
        long offset = result.path("offset").asLong();
        boolean first = s.start < 0;
        s.subscribed(offset, result.path("epoch").asText(""));
        if (first) {
            if (allSubscribed()) {
                fleet.stats.subscribed.increment();
            }
        } else {
            s.recoverTarget = offset;
            checkRecovered();
        }
        if (fleet.spec.ackIntervalMillis() > 0) {
            // Tether's convention: ack right after subscribe so a resume replays from our acks.
            long ack = first ? offset : s.last;
            send("{\"op\":\"ack\",\"channel\":\"" + s.channel + "\",\"offset\":" + ack + "}");
            s.acked = ack;
            fleet.stats.acksSent.increment();
        }
    }

    private boolean allSubscribed() {
        for (SubState s : subs) {
            if (s.start < 0) {
                return false;
            }
        }
        return true;
    }

    private void checkRecovered() {
        if (recoveryRecorded || state != State.READY) {
            return;
        }
        for (SubState s : subs) {
            if (!s.recovered()) {
                return;
            }
        }
        recoveryRecorded = true;
        fleet.stats.recovered.increment();
        fleet.stats.recoverMillis.recordValue(Math.max(1, (System.nanoTime() - cutNanos) / 1_000_000));
    }

    /** Sends cumulative acks for what arrived since the last ones; called by the fleet's ack task. */
    void ackIfDue() {
        if (state != State.READY || subs.length == 0) {
            return;
        }
        StringBuilder lines = null;
        for (SubState s : subs) {
            if (s.start >= 0 && s.last > s.acked) {
                lines = lines == null ? new StringBuilder(64) : lines.append('\n');
                lines.append("{\"op\":\"ack\",\"channel\":\"").append(s.channel).append("\",\"offset\":").append(s.last).append('}');
                s.acked = s.last;
                fleet.stats.acksSent.increment();
            }
        }
        if (lines != null) {
            send(lines);
        }
    }

    // --- storms and closing -----------------------------------------------------------------------

    /** Drops the connection at once (TCP reset) and comes back after a random delay. Event loop only. */
    void cut(long cutAtNanos, long spreadMillis) {
        if (state != State.READY) {
            return;
        }
        state = State.CUT;
        reconnecting = true;
        recoveryRecorded = false;
        cutNanos = cutAtNanos;
        attempts = 0;
        for (SubState s : subs) {
            s.onReconnect();
        }
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
        channel.close();
        long delay = spreadMillis <= 0 ? 0 : ThreadLocalRandom.current().nextLong(spreadMillis + 1);
        reconnectDueNanos = cutAtNanos + TimeUnit.MILLISECONDS.toNanos(delay);
        loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    boolean recovered() {
        return !reconnecting || recoveryRecorded;
    }

    void close() {
        state = State.CLOSED;
        if (publisher != null) {
            publisher.stop();
        }
        if (channel != null) {
            channel.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ctx.channel() != channel) {
            return;
        }
        if (state == State.READY || state == State.OPEN) {
            fleet.stats.dropped.increment();
            state = State.CLOSED;
            if (publisher != null) {
                publisher.stop();
            }
        } else if (state == State.CONNECTING) {
            fleet.stats.connectFailures.increment();
            retryOrGiveUp();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
