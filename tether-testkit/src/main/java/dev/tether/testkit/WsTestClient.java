package dev.tether.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A raw WebSocket client for tests: it sends exactly the frames a test asks for, including
 * ones a well-behaved client never would, and records everything the server sends back.
 *
 * <pre>{@code
 * try (WsTestClient ws = WsTestClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws"))) {
 *     JsonNode reply = ws.request("{\"id\":1,\"op\":\"connect\"}", Duration.ofSeconds(5));
 *     assertThat(reply.path("result").path("client").asText()).isNotEmpty();
 * }
 * }</pre>
 *
 * <p><b>Receiving.</b> A text frame may batch several messages separated by {@code '\n'}; each
 * non-blank line is one message. Every message is handed to exactly one {@code poll}-family
 * call, in arrival order, and is kept forever in {@link #all()}. Binary frames go to a separate
 * queue ({@link #pollBinary}). Fragmented frames are reassembled before any of this.
 *
 * <p><b>Threads.</b> Every method may be called from any thread except an event loop thread.
 * Sends never block and never throw: a frame sent after the connection closed is dropped.
 * Frames from one thread go out in call order.
 */
public final class WsTestClient implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WsTestClient.class);

    /** How long {@link #close(int, String)} and {@link #abort()} wait for TCP to end. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    /** Normal closure (RFC 6455, 7.4.1). */
    private static final int NORMAL_CLOSURE = 1000;

    private static final ChannelFutureListener LOG_FAILURE = f -> {
        if (!f.isSuccess()) {
            log.debug("dropped a frame for {}: {}", f.channel(), f.cause().toString());
        }
    };

    private final Channel channel;
    private final WebSocketClientHandshaker handshaker;
    private final ClientHandler handler;
    private final Inbox inbox;
    private final CompletableFuture<Void> disconnected = new CompletableFuture<>();

    private WsTestClient(Channel channel, WebSocketClientHandshaker handshaker, ClientHandler handler, Inbox inbox) {
        this.channel = channel;
        this.handshaker = handshaker;
        this.handler = handler;
        this.inbox = inbox;
        channel.closeFuture().addListener(f -> disconnected.complete(null));
    }

    /** Connects with {@link Options#defaults()}; blocks until the upgrade completes. */
    public static WsTestClient connect(URI uri) {
        return connect(uri, Options.defaults());
    }

    /**
     * Connects sending {@code extraHeaders} with the upgrade request (for example {@code Origin})
     * and offering {@code subprotocol} (null offers none); blocks until the upgrade completes.
     */
    public static WsTestClient connect(URI uri, HttpHeaders extraHeaders, String subprotocol) {
        return connect(uri, Options.defaults().withHeaders(extraHeaders).withSubprotocol(subprotocol));
    }

    /**
     * Connects and blocks until the upgrade completes, at most {@link Options#connectTimeout()}.
     *
     * @throws WsHandshakeException if the server refuses the upgrade (with its HTTP status), or
     *     if there is no response in time or at all (status {@link WsHandshakeException#NO_RESPONSE})
     * @throws IllegalArgumentException if the scheme is not {@code ws} (TLS is not supported)
     */
    public static WsTestClient connect(URI uri, Options options) {
        ClientConnector connector = new ClientConnector(uri, options);
        return new WsTestClient(connector.open(), connector.handshaker, connector.handler, connector.inbox);
    }

    /** The subprotocol the server selected, or null if it selected none. */
    public String selectedSubprotocol() {
        return handshaker.actualSubprotocol();
    }

    /** This end's address, to tell connections apart in server logs. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Sends {@code text} as one text frame. */
    public void send(String text) {
        write(new TextWebSocketFrame(text));
    }

    /** Sends one binary frame. */
    public void sendBinary(byte[] bytes) {
        write(new BinaryWebSocketFrame(Unpooled.copiedBuffer(bytes)));
    }

    /**
     * Sends a text frame whose payload is {@code payload} as is, valid UTF-8 or not. Takes
     * ownership of the buffer: this client releases it.
     */
    public void sendRawTextFrame(ByteBuf payload) {
        write(new TextWebSocketFrame(payload));
    }

    /**
     * Sends {@code text} as one message in {@code parts} frames: a text frame, then continuation
     * frames. The UTF-8 bytes are split evenly, so a character may straddle two frames, as RFC 6455
     * allows. {@code parts} is capped at the byte length; no other frame can come in between.
     */
    public void sendFragmented(String text, int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be at least 1: " + parts);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(parts, Math.max(1, bytes.length));
        List<WebSocketFrame> frames = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int from = (int) ((long) bytes.length * i / n);
            int to = (int) ((long) bytes.length * (i + 1) / n);
            ByteBuf chunk = Unpooled.copiedBuffer(bytes, from, to - from);
            boolean last = i == n - 1;
            frames.add(i == 0 ? new TextWebSocketFrame(last, 0, chunk) : new ContinuationWebSocketFrame(last, 0, chunk));
        }
        write(frames.toArray(new WebSocketFrame[0]));
    }

    /**
     * Sends one text message as the given byte fragments (a text frame, then continuation frames),
     * bytes as they are, valid UTF-8 or not.
     */
    public void sendRawFragments(byte[]... parts) {
        if (parts.length < 1) {
            throw new IllegalArgumentException("at least one fragment is needed");
        }
        List<WebSocketFrame> frames = new ArrayList<>(parts.length);
        for (int i = 0; i < parts.length; i++) {
            ByteBuf chunk = Unpooled.wrappedBuffer(parts[i]);
            boolean last = i == parts.length - 1;
            frames.add(i == 0 ? new TextWebSocketFrame(last, 0, chunk) : new ContinuationWebSocketFrame(last, 0, chunk));
        }
        write(frames.toArray(new WebSocketFrame[0]));
    }

    /** Sends a protocol-level Ping frame; the server's Pong is counted by {@link #pongsReceived()}. */
    public void sendPing() {
        write(new PingWebSocketFrame(Unpooled.copyLong(System.nanoTime())));
    }

    /** Writes the frames back to back on the event loop, so other threads' frames cannot interleave. */
    private void write(WebSocketFrame... frames) {
        EventLoop loop = channel.eventLoop();
        Runnable task = () -> {
            for (WebSocketFrame frame : frames) {
                channel.write(frame).addListener(LOG_FAILURE);
            }
            channel.flush();
        };
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            for (WebSocketFrame frame : frames) {
                ReferenceCountUtil.release(frame);
            }
            log.debug("event loop shut down, dropped {} frame(s) for {}", frames.length, channel);
        }
    }

    /** The next message, waiting at most {@code timeout}; null if none arrived. */
    public String poll(Duration timeout) {
        return inbox.poll(timeout);
    }

    /**
     * The next message parsed as JSON, waiting at most {@code timeout}; null if none arrived.
     *
     * @throws java.io.UncheckedIOException if the message is not JSON (it is consumed anyway)
     */
    public JsonNode pollJson(Duration timeout) {
        return inbox.pollJson(timeout);
    }

    /**
     * Polls messages until one is JSON and matches, and returns it. Messages polled on the way
     * are consumed (they stay in {@link #all()}); use {@link #request} to keep them.
     *
     * @throws AssertionError if no message matches within {@code timeout}; it quotes the last messages
     */
    public JsonNode await(Predicate<JsonNode> match, Duration timeout) {
        return inbox.await(match, timeout);
    }

    /**
     * Sends a command and waits for its reply: the message whose {@code id} equals the command's.
     * Nothing is lost: messages that arrive first (pushes, other replies) are set aside, in
     * order, and returned by the next {@code poll}-family calls before anything newer.
     *
     * @param json a JSON object with an {@code id}, for example {@code {"id":2,"op":"subscribe",...}}
     * @throws IllegalArgumentException if {@code json} is not an object with an {@code id}
     * @throws AssertionError if no reply arrives within {@code timeout}
     */
    public JsonNode request(String json, Duration timeout) {
        JsonNode id;
        try {
            id = Inbox.parse(json).get("id");
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException("a command must be JSON: " + json, e);
        }
        if (id == null || id.isNull()) {
            throw new IllegalArgumentException("a command needs an id: " + json);
        }
        send(json);
        return inbox.awaitReply(id, timeout);
    }

    /** Every message received so far, in order, whether polled or not. A snapshot. */
    public List<String> all() {
        return inbox.all();
    }

    /** Text frames received so far, after reassembly; a batch of messages counts once. */
    public int framesReceived() {
        return inbox.framesReceived();
    }

    /** The next binary frame's payload, waiting at most {@code timeout}; null if none arrived. */
    public byte[] pollBinary(Duration timeout) {
        return inbox.pollBinary(timeout);
    }

    /** Protocol-level Pong frames received so far. */
    public int pongsReceived() {
        return inbox.pongsReceived();
    }

    /**
     * Completes with the status code of the server's close frame (1005 if it carried none), or
     * with -1 if TCP ended without a close frame. Never completes exceptionally.
     */
    public CompletableFuture<Integer> closeCode() {
        return handler.closeCode.copy();
    }

    /** The reason in the server's close frame; null before one arrives, "" if it had none. */
    public String closeReason() {
        return handler.closeReason;
    }

    /** Completes when the TCP connection has ended, however it ended. */
    public CompletableFuture<Void> disconnected() {
        return disconnected.copy();
    }

    /** Whether the TCP connection is still open. */
    public boolean isOpen() {
        return channel.isOpen();
    }

    /**
     * Stops reading from the socket, like a client that hangs: the kernel buffers fill (make them
     * small with {@link Options#withReceiveBufferBytes}) and the server sees the socket unwritable.
     */
    public void pauseReading() {
        channel.config().setAutoRead(false);
    }

    /** Reads from the socket again after {@link #pauseReading()}. */
    public void resumeReading() {
        channel.config().setAutoRead(true);
    }

    /**
     * Closes gracefully: sends a close frame with {@code code} and {@code reason} (as given, even
     * if invalid) and waits up to 5 s for the server to answer and TCP to end, then closes TCP
     * itself. Resumes reading so the server's answer can arrive.
     */
    public void close(int code, String reason) {
        requireNotEventLoop();
        resumeReading();
        channel.eventLoop().execute(() -> handler.sendClose(channel, code, reason));
        if (!awaitDisconnected()) {
            log.debug("no close from the server within {}, closing {}", CLOSE_WAIT, channel);
            channel.close();
            awaitDisconnected();
        }
    }

    /** Closes with 1000 (normal closure); see {@link #close(int, String)}. */
    @Override
    public void close() {
        close(NORMAL_CLOSURE, "");
    }

    /** Ends the TCP connection at once, without a close frame, like a client that vanished. */
    public void abort() {
        requireNotEventLoop();
        channel.close();
        awaitDisconnected();
    }

    /** Waits, at most {@link #CLOSE_WAIT}, until {@link #disconnected()} is complete. */
    private boolean awaitDisconnected() {
        try {
            disconnected.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private void requireNotEventLoop() {
        if (channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("blocking call on the client's event loop thread");
        }
    }

    @Override
    public String toString() {
        return "WsTestClient" + channel;
    }

    /**
     * Connection settings. Immutable; start from {@link #defaults()} and use the {@code with}
     * methods.
     *
     * @param connectTimeout bound on TCP connect plus upgrade
     * @param maxFramePayloadBytes largest frame (and reassembled message) accepted from the server
     * @param receiveBufferBytes SO_RCVBUF for the socket; 0 keeps the OS default
     * @param headers extra upgrade request headers (for example {@code Origin}); copied
     * @param subprotocol subprotocol to offer, or null
     * @param localAddress local address to bind, or null for any
     * @param eventLoopGroup NIO group to run on; the default is shared, daemon and never shut down
     */
    public record Options(Duration connectTimeout, int maxFramePayloadBytes, int receiveBufferBytes,
                          HttpHeaders headers, String subprotocol, InetSocketAddress localAddress,
                          EventLoopGroup eventLoopGroup) {

        /** 10 s, 16 MiB frames, OS receive buffer, no extra headers, no subprotocol, shared group. */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(10), 16 * 1024 * 1024, 0, null, null, null, null);
        }

        /** Validates and fills in defaults for null headers and group. */
        public Options {
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive: " + connectTimeout);
            }
            if (maxFramePayloadBytes <= 0 || receiveBufferBytes < 0) {
                throw new IllegalArgumentException("byte limits must not be negative");
            }
            headers = headers == null ? EmptyHttpHeaders.INSTANCE : new DefaultHttpHeaders().add(headers);
            eventLoopGroup = eventLoopGroup == null ? EventLoops.clients() : eventLoopGroup;
        }

        /** A copy with another {@link #connectTimeout()}. */
        public Options withConnectTimeout(Duration value) {
            return new Options(value, maxFramePayloadBytes, receiveBufferBytes, headers, subprotocol, localAddress, eventLoopGroup);
        }

        /** A copy with another {@link #maxFramePayloadBytes()}. */
        public Options withMaxFramePayloadBytes(int value) {
            return new Options(connectTimeout, value, receiveBufferBytes, headers, subprotocol, localAddress, eventLoopGroup);
        }

        /** A copy with another {@link #receiveBufferBytes()}; small values make {@link WsTestClient#pauseReading()} bite sooner. */
        public Options withReceiveBufferBytes(int value) {
            return new Options(connectTimeout, maxFramePayloadBytes, value, headers, subprotocol, localAddress, eventLoopGroup);
        }

        /** A copy with other upgrade {@link #headers()}; null for none. */
        public Options withHeaders(HttpHeaders value) {
            return new Options(connectTimeout, maxFramePayloadBytes, receiveBufferBytes, value, subprotocol, localAddress, eventLoopGroup);
        }

        /** A copy offering another {@link #subprotocol()}; null offers none. */
        public Options withSubprotocol(String value) {
            return new Options(connectTimeout, maxFramePayloadBytes, receiveBufferBytes, headers, value, localAddress, eventLoopGroup);
        }

        /** A copy binding another {@link #localAddress()}; null for any. */
        public Options withLocalAddress(InetSocketAddress value) {
            return new Options(connectTimeout, maxFramePayloadBytes, receiveBufferBytes, headers, subprotocol, value, eventLoopGroup);
        }

        /** A copy running on another {@link #eventLoopGroup()}; null for the shared one. */
        public Options withEventLoopGroup(EventLoopGroup value) {
            return new Options(connectTimeout, maxFramePayloadBytes, receiveBufferBytes, headers, subprotocol, localAddress, value);
        }
    }
}
