package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.client.TetherClient.State;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's state machine: connects, reconnects through the {@link ConnectionWatchdog},
 * resumes, routes what the server sends, and closes.
 *
 * <p>Owner: one event loop per client. Every field below is read and written only there, except
 * {@link #state} (volatile, for {@link #state()}); public entry points hop onto the loop.
 * Listener calls go through {@link #events}, a serial executor, never run on the loop.
 */
final class ClientCore implements Connection.Events {
    private static final Logger log = LoggerFactory.getLogger(ClientCore.class);
    static final int NORMAL_CLOSURE = 1000;
    /** Close codes 4500-4999: the server says not to reconnect (protocol section 12). */
    private static final int NO_RECONNECT_FROM = 4500;
    private static final int NO_RECONNECT_TO = 4999;
    /** 4003: server overloaded; its {@code retryAfter} is a minimum, on top of our backoff. */
    private static final int OVERLOADED = 4003;
    private static final int TOKEN_EXPIRED = 112;
    private static final ObjectNode PONG = Json.object().put("op", "pong");

    final ClientConfig config;
    final EventLoop loop;
    private final Scheduler scheduler;
    private final ConnectionWatchdog watchdog;
    private final SerialExecutor events;
    final Subscriptions subscriptions;
    final RequestQueue requests;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    /** Written on the loop only. */
    private volatile State state = State.NEW;
    /** The current socket (connecting or connected), or null. */
    private Connection conn;
    private long connectionCount;
    /** The token to send in {@code connect} on {@link #conn}. */
    private String pendingToken;
    /** The resume token of the last session. */
    private String session;
    /** The client id of the last session, for logs. */
    private String clientId = "-";
    private Scheduler.Cancellable connectDeadline;
    private Scheduler.Cancellable ackTick;
    /** Why the client closed; reported by {@code onClosed} once the socket is gone. */
    private int closeCode = NORMAL_CLOSURE;
    private String closeReason = "";
    /** Completes when every subscription's last position is saved (set when the client ends). */
    private CompletableFuture<Void> finalSaves = CompletableFuture.completedFuture(null);
    /** At most this long closed() waits for the last saves (a listener may be blocking their executor). */
    static final long FINAL_SAVE_WAIT_MILLIS = 1000;
    private boolean closedReported;

    ClientCore(ClientConfig config) {
        this.config = config;
        this.loop = config.eventLoopGroup().next();
        this.scheduler = Scheduler.of(loop);
        this.watchdog = new ConnectionWatchdog(scheduler, config.backoff(), this::attempt);
        this.events = new SerialExecutor(config.callbackExecutor());
        this.subscriptions = new Subscriptions(loop, scheduler, config.callbackExecutor(), config.offsetStore());
        this.requests = new RequestQueue(scheduler, config.callbackExecutor(), config.publishTimeout().toMillis());
    }

    State state() {
        return state;
    }

    CompletableFuture<Void> terminated() {
        return terminated;
    }

    // --- lifecycle -------------------------------------------------------------------------------

    void connect() {
        String saved = config.offsetStore().loadSession();
        loop.execute(() -> {
            if (state != State.NEW) {
                return;
            }
            session = saved;
            setState(State.CONNECTING);
            attempt();
        });
    }

    /** One connection attempt (first or after the watchdog's delay). */
    private void attempt() {
        if (state == State.CLOSED || conn != null) {
            return;
        }
        // The supplier's answer, bounded by connectTimeout: a supplier that returns null, throws or
        // never answers is a failed attempt and the watchdog retries, instead of the client waiting
        // in CONNECTING for ever.
        CompletableFuture<String> token = new CompletableFuture<>();
        try {
            if (config.tokenSupplier() == null) {
                token.complete(null);
            } else {
                CompletionStage<String> stage = config.tokenSupplier().get();
                if (stage == null) {
                    throw new IllegalStateException("the token supplier returned null instead of a CompletionStage");
                }
                stage.whenComplete((t, err) -> {
                    if (err != null) {
                        token.completeExceptionally(err);
                    } else {
                        token.complete(t);
                    }
                });
                token.orTimeout(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            token.completeExceptionally(e);
        }
        token.whenComplete((t, err) -> loop.execute(() -> {
            if (state == State.CLOSED || conn != null) {
                return;
            }
            if (err instanceof TimeoutException) {
                log.warn("client {}: no token within connectTimeout ({} ms); retrying", clientId,
                        config.connectTimeout().toMillis());
                retryLater(-1, false);
            } else if (err != null) {
                log.warn("client {}: token supplier failed; retrying", clientId, err);
                retryLater(-1, false);
            } else {
                open(t);
            }
        }));
    }

    private void open(String token) {
        if (state == State.CLOSED || conn != null) {
            return;
        }
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis());
        Connection c = new Connection(++connectionCount, config.url(), this);
        conn = c;
        pendingToken = token;
        connectDeadline = scheduler.schedule(() -> {
            if (conn == c && !c.connected) {
                c.closeReason = "no connect result within " + timeoutMillis + " ms";
                c.abort();
            }
        }, timeoutMillis);
        c.open(loop, config.ssl(), timeoutMillis);
    }

    @Override
    public void onOpen(Connection c) {
        if (c != conn || state == State.CLOSED) {
            c.abort();
            return;
        }
        ObjectNode cmd = Json.object().put("op", "connect");
        if (pendingToken != null) {
            cmd.put("token", pendingToken);
        }
        if (session != null) {
            cmd.put("session", session);
        }
        if (config.name() != null) {
            cmd.put("name", config.name());
        }
        if (config.info() != null) {
            cmd.set("info", config.info());
        }
        c.request(cmd, reply -> onConnectReply(c, reply));
    }

    private void onConnectReply(Connection c, JsonNode reply) {
        if (c != conn) {
            return;
        }
        JsonNode error = reply.get("error");
        if (error != null) {
            TetherException e = Json.error(error);
            c.fatal = !e.temporary() && !(e.code() == TOKEN_EXPIRED && config.refreshableToken());
            c.closeCode = e.code();
            c.closeReason = "connect refused: " + e.getMessage();
            log.warn("client {}: server refused connect ({}): {}", clientId, e.code(), e.getMessage());
            c.abort();
            return;
        }
        JsonNode result = reply.path("result");
        cancel(connectDeadline);
        c.connected = true;
        watchdog.connected();
        session = result.path("session").asText(null);
        clientId = result.path("client").asText("-");
        String saved = session;
        events.execute(() -> {
            try {
                config.offsetStore().saveSession(saved);
            } catch (RuntimeException e) {
                log.warn("offset store failed to save the session", e);
            }
        });
        c.watchSilence(result.path("ping").asLong(25_000) + result.path("pong").asLong(10_000));
        boolean resumed = result.path("resumed").asBoolean();
        JsonNode restored = resumed ? result.path("subscriptions") : MissingNode.getInstance();
        List<SubscriptionRecovery> recoveries = subscriptions.connected(c, result.path("window").asInt(1024), restored);
        requests.connected(c);
        setState(State.CONNECTED);
        scheduleAckTick();
        ConnectedEvent event = new ConnectedEvent(result.path("client").asText(), session, result.path("user").asText(""),
                resumed, recoveries);
        log.info("client {} connected to {} (session {}, resumed {}, node {}, connection {})", clientId, config.url(), session,
                resumed, result.path("node").asText(), c.number);
        fire(l -> l.onConnected(event));
    }

    @Override
    public void onMessage(Connection c, JsonNode message) {
        if (c != conn) {
            return;
        }
        JsonNode id = message.get("id");
        if (id != null) {
            Consumer<JsonNode> handler = c.takeReply(id.asLong());
            if (handler != null) {
                handler.accept(message);
            }
            return;
        }
        switch (message.path("op").asText()) {
            case "ping" -> c.send(PONG);
            case "pub" -> subscriptions.publication(c, message);
            case "join" -> subscriptions.presence(message, true);
            case "leave" -> subscriptions.presence(message, false);
            case "disconnect" -> c.disconnectPush(message.path("code").asInt(), message.path("reason").asText(""),
                    // Without the field, the code's range decides (protocol section 12).
                    message.path("reconnect").isBoolean() ? message.path("reconnect").booleanValue() : null,
                    message.path("retryAfter").asLong(-1));
            case "error" -> log.warn("server reported error {}: {}", message.path("code").asInt(), message.path("message").asText());
            default -> log.debug("ignoring push {}", message);
        }
    }

    @Override
    public void onClosed(Connection c) {
        if (c != conn) {
            return;
        }
        conn = null;
        watchdog.disconnected();
        cancel(connectDeadline);
        cancel(ackTick);
        subscriptions.disconnected();
        requests.disconnected();
        if (state == State.CLOSED) {
            reportClosed();
            return;
        }
        int code = c.closeCode;
        boolean reconnect = !c.fatal && (c.serverSaysReconnect != null ? c.serverSaysReconnect
                : code < NO_RECONNECT_FROM || code > NO_RECONNECT_TO);
        if (!reconnect && code == 4501 && !c.fatal && config.refreshableToken()) {
            reconnect = true; // the token expired; the supplier gets a fresh one
        }
        if (c.connected) {
            boolean willReconnect = reconnect;
            fire(l -> l.onDisconnected(code, c.closeReason, willReconnect));
        }
        if (!reconnect) {
            log.info("client {}: {} closed with {} ({}); not reconnecting", clientId, c, code, c.closeReason);
            terminate(code, c.closeReason);
            return;
        }
        if (c.connected) {
            setState(State.RECONNECTING);
        }
        long delay = retryLater(c.retryAfterMillis, code == OVERLOADED);
        log.info("client {}: {} closed with {} ({}); reconnecting in {} ms", clientId, c, code, c.closeReason, delay);
    }

    private long retryLater(long retryAfterMillis, boolean longer) {
        return watchdog.scheduleReconnect(retryAfterMillis, longer);
    }

    private void scheduleAckTick() {
        ackTick = scheduler.schedule(() -> {
            if (conn != null && conn.connected) {
                subscriptions.flushAll();
                scheduleAckTick();
            }
        }, AckBatcher.INTERVAL_MILLIS);
    }

    /** Any thread: ends the client; graceful sends close code 1000 (the server ends the session). */
    void shutdown(boolean graceful) {
        loop.execute(() -> {
            if (state == State.CLOSED) {
                return;
            }
            closeCode = graceful ? NORMAL_CLOSURE : Connection.ABNORMAL_CLOSURE;
            closeReason = graceful ? "closed by the client" : "cancelled by the client";
            endEverything();
            if (conn == null) {
                reportClosed();
            } else if (graceful) {
                conn.close(NORMAL_CLOSURE, "");
            } else {
                conn.abort();
            }
        });
    }

    /** The server told us not to come back, or connect failed for good. */
    private void terminate(int code, String reason) {
        closeCode = code;
        closeReason = reason;
        endEverything();
        reportClosed();
    }

    private void endEverything() {
        setState(State.CLOSED);
        watchdog.stop();
        cancel(ackTick);
        finalSaves = subscriptions.closeAll(config.offsetStore());
        requests.failAll(new TetherException(TetherException.CLIENT_CLOSED, "the client is closed", false));
    }

    private void reportClosed() {
        if (closedReported) {
            return;
        }
        closedReported = true;
        int code = closeCode;
        String reason = closeReason;
        log.info("client {} closed ({} {})", clientId, code, reason);
        // After the last positions are saved: a process that exits once closed() completes must not
        // see again, on its next start, what its listeners handled after the last periodic save.
        // Bounded: a listener that closes the client and waits for closed() blocks its own callback
        // executor, where the last save of its subscription is queued behind it.
        finalSaves.completeOnTimeout(null, FINAL_SAVE_WAIT_MILLIS, TimeUnit.MILLISECONDS).whenComplete((v, err) -> events.execute(() -> {
            try {
                config.listener().onClosed(code, reason);
            } finally {
                terminated.complete(null);
            }
        }));
    }

    // --- commands (any thread) -------------------------------------------------------------------

    <T> void submit(ObjectNode fields, Function<JsonNode, T> parse, CompletableFuture<T> future) {
        loop.execute(() -> {
            if (state == State.CLOSED) {
                // On the callback executor, as every other completion: never on the I/O thread.
                config.callbackExecutor().execute(() -> future.completeExceptionally(
                        new TetherException(TetherException.CLIENT_CLOSED, "the client is closed", false)));
            } else {
                requests.submit(fields, parse, future);
            }
        });
    }

    // --- helpers ---------------------------------------------------------------------------------

    private void setState(State to) {
        State from = state;
        if (from == to) {
            return;
        }
        state = to;
        fire(l -> l.onStateChanged(from, to));
    }

    /** Calls the connection listener on the callback executor, in order, until it was told {@code onClosed}. */
    private void fire(Consumer<ConnectionListener> call) {
        events.execute(() -> {
            if (!terminated.isDone()) {
                call.accept(config.listener());
            }
        });
    }

    private static void cancel(Scheduler.Cancellable c) {
        if (c != null) {
            c.cancel();
        }
    }
}
