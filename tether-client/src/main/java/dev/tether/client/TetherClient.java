package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * A connection to a Tether server that stays up: it reconnects, resumes its session,
 * re-subscribes, filters duplicates, acknowledges and resends unanswered publishes on its own,
 * so that an application written naively loses no message.
 *
 * <pre>{@code
 * TetherClient client = TetherClient.builder().url(URI.create("ws://localhost:8080/ws")).build();
 * client.subscribe("chat:lobby", p -> System.out.println(p.offset() + " " + p.data()));
 * client.connect();
 * client.publish("chat:lobby", Map.of("text", "hi")).join();
 * client.close();
 * }</pre>
 *
 * <h2>Delivery guarantees</h2>
 * <ul>
 *   <li>Within one client's lifetime each publication of a subscribed channel reaches the
 *       listener exactly once and in offset order, across any number of dropped connections,
 *       unless the server can no longer supply it; then the listener gets
 *       {@link SubscriptionListener#onGap} saying exactly which offsets are missing (or that the
 *       channel's history was reset), at the place where they are missing.</li>
 *   <li>{@link #publish} gives every publication an idempotency key and sends it again on every
 *       new connection until the server answers, so it is stored once; its future completes
 *       exactly once: with the result, with the server's permanent error, with a timeout after
 *       {@link Builder#publishTimeout}, or when the client closes.</li>
 * </ul>
 *
 * <h2>Threading model</h2>
 * Every public method is thread-safe and non-blocking. Each client owns one Netty event loop
 * (from a shared pool of daemon threads unless given a group); all its protocol state is
 * confined to that thread. Listener calls never run there: each subscription has its own serial
 * queue over the callback executor (a shared cached pool of daemon threads unless given one), so
 * calls for one subscription are never concurrent and always in order, while subscriptions run
 * in parallel. {@link ConnectionListener} calls are serialized the same way, and futures
 * complete on the callback executor. A slow listener slows only its own subscription: the client
 * acknowledges what listeners have finished, so the server holds back instead of the client
 * buffering without bound.
 */
public final class TetherClient implements AutoCloseable {

    /** The client's lifecycle. */
    public enum State {
        /** Built; {@link #connect()} not called yet. Subscriptions and publishes are queued. */
        NEW,
        /** Connecting for the first time (retrying with backoff if that fails). */
        CONNECTING,
        /** Connected; commands flow. */
        CONNECTED,
        /** The connection was lost; reconnecting with backoff. Commands are queued. */
        RECONNECTING,
        /** Closed for good. Terminal. */
        CLOSED
    }

    static final Duration DEFAULT_BACKOFF_MIN = Duration.ofMillis(500);
    static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(20);
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(60);

    private final ClientCore core;
    /** Unique prefix of this client's publish keys. */
    private final String keyPrefix = "k-" + UUID.randomUUID().toString().replace("-", "").substring(0, 16) + "-";
    private final AtomicLong keys = new AtomicLong();

    TetherClient(ClientConfig config) {
        this.core = new ClientCore(config);
    }

    /** A builder; {@link Builder#url} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts connecting (in the background) and keeps the client connected until
     * {@link #close()}. Calling it again does nothing.
     *
     * @return this client
     */
    public TetherClient connect() {
        core.connect();
        return this;
    }

    /** The current state. */
    public State state() {
        return core.state();
    }

    /** Subscribes to {@code channel}, starting from the offset store's position for it, else live. */
    public Subscription subscribe(String channel, SubscriptionListener listener) {
        return subscribe(channel, listener, SubscribeOptions.defaults());
    }

    /** Subscribes to {@code channel}, first delivering every publication after {@code since}. */
    public Subscription subscribe(String channel, SubscriptionListener listener, StreamPosition since) {
        return subscribe(channel, listener, SubscribeOptions.defaults().since(since));
    }

    /**
     * Subscribes to {@code channel}. The subscription lasts across reconnects until
     * {@link Subscription#unsubscribe()} or {@link #close()}. May be called in any state; the
     * server is asked as soon as a connection is up.
     *
     * @throws IllegalStateException if this client already has a subscription to {@code channel},
     *                               or is closed
     */
    public Subscription subscribe(String channel, SubscriptionListener listener, SubscribeOptions options) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(options, "options");
        if (state() == State.CLOSED) {
            throw new IllegalStateException("the client is closed");
        }
        return core.subscriptions.subscribe(channel, listener, options);
    }

    /**
     * Publishes {@code data} (a {@link JsonNode}, or any object Jackson can serialize) to
     * {@code channel} with a fresh idempotency key. Queued while disconnected.
     *
     * @return completes with where the publication was stored, or fails with a
     *         {@link TetherException}
     */
    public CompletableFuture<PublishResult> publish(String channel, Object data) {
        return publish(channel, data, keyPrefix + keys.incrementAndGet());
    }

    /**
     * Publishes with an explicit idempotency {@code key} (at most 128 characters): the server
     * stores at most one publication per key within its dedup window, even across clients and
     * process restarts.
     */
    public CompletableFuture<PublishResult> publish(String channel, Object data, String key) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(key, "key");
        ObjectNode cmd = Json.object().put("op", "publish").put("channel", channel);
        cmd.set("data", Json.toTree(data));
        cmd.put("key", key);
        CompletableFuture<PublishResult> future = new CompletableFuture<>();
        core.submit(cmd, r -> new PublishResult(r.path("offset").asLong(), r.path("epoch").asText(),
                r.path("duplicate").asBoolean(), key), future);
        return future;
    }

    /** The latest {@code limit} (1 to 1000) publications of {@code channel}, oldest first. */
    public CompletableFuture<HistoryResult> history(String channel, int limit) {
        return history(channel, limit, null);
    }

    /** Up to {@code limit} publications of {@code channel} after {@code since}, oldest first. */
    public CompletableFuture<HistoryResult> history(String channel, int limit, StreamPosition since) {
        Objects.requireNonNull(channel, "channel");
        ObjectNode cmd = Json.object().put("op", "history").put("channel", channel).put("limit", limit);
        if (since != null) {
            cmd.set("since", Json.position(since));
        }
        CompletableFuture<HistoryResult> future = new CompletableFuture<>();
        core.submit(cmd, r -> {
            String epoch = r.path("epoch").asText();
            List<Publication> pubs = new ArrayList<>();
            for (JsonNode p : r.path("publications")) {
                pubs.add(Json.publication(channel, epoch, p));
            }
            return new HistoryResult(pubs, r.path("offset").asLong(), epoch, Json.gap(r.get("gap")));
        }, future);
        return future;
    }

    /** The clients present in {@code channel} (subscribed, or with a session kept for resume). */
    public CompletableFuture<List<ClientInfo>> presence(String channel) {
        Objects.requireNonNull(channel, "channel");
        ObjectNode cmd = Json.object().put("op", "presence").put("channel", channel);
        CompletableFuture<List<ClientInfo>> future = new CompletableFuture<>();
        core.submit(cmd, r -> {
            List<ClientInfo> clients = new ArrayList<>();
            for (JsonNode c : r.path("clients")) {
                clients.add(Json.clientInfo(c));
            }
            return List.copyOf(clients);
        }, future);
        return future;
    }

    /**
     * Closes gracefully: close code 1000, so the server ends the session at once (presence shows
     * a leave). Unanswered commands fail with {@link TetherException#CLIENT_CLOSED}; no
     * subscription listener call starts after the client saw the close. Returns at once;
     * {@link #closed()} completes after {@link ConnectionListener#onClosed}.
     */
    @Override
    public void close() {
        core.shutdown(true);
    }

    /**
     * Drops the connection at once without a closing handshake (the server keeps the session
     * for its TTL, as for any lost connection). Otherwise as {@link #close()}.
     */
    public void cancel() {
        core.shutdown(false);
    }

    /** Completes once the client is closed and {@link ConnectionListener#onClosed} has returned. */
    public CompletableFuture<Void> closed() {
        return core.terminated().copy();
    }

    @Override
    public String toString() {
        return "TetherClient[" + core.config.url() + ", " + state() + "]";
    }

    /**
     * Configures a {@link TetherClient}. Only {@link #url} is required; every other setting has
     * a default. Not thread-safe; build once.
     */
    public static final class Builder {
        private URI url;
        private Supplier<CompletionStage<String>> tokenSupplier;
        private boolean refreshableToken;
        private String name;
        private ObjectNode info;
        private Backoff backoff = Backoff.exponentialFullJitter(DEFAULT_BACKOFF_MIN, DEFAULT_BACKOFF_MAX);
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration publishTimeout = DEFAULT_PUBLISH_TIMEOUT;
        private OffsetStore offsetStore;
        private ConnectionListener listener;
        private Executor callbackExecutor;
        private EventLoopGroup eventLoopGroup;

        private Builder() {
        }

        /** The server's WebSocket endpoint, {@code ws://host:port/ws} or {@code wss://…}. */
        public Builder url(URI url) {
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw new IllegalArgumentException("url must be ws:// or wss://, got " + url);
            }
            this.url = url;
            return this;
        }

        /** As {@link #url(URI)}. */
        public Builder url(String url) {
            return url(URI.create(url));
        }

        /** A fixed token (JWT) sent with every {@code connect}. */
        public Builder token(String token) {
            this.tokenSupplier = () -> CompletableFuture.completedFuture(token);
            this.refreshableToken = false;
            return this;
        }

        /**
         * Asked for a token before every connection attempt, so that tokens can be refreshed; an
         * expired token (error 112) makes the client ask again instead of giving up. It must not
         * block (return an incomplete stage instead); a failed stage counts as a failed attempt.
         */
        public Builder tokenSupplier(Supplier<CompletionStage<String>> tokenSupplier) {
            this.tokenSupplier = Objects.requireNonNull(tokenSupplier, "tokenSupplier");
            this.refreshableToken = true;
            return this;
        }

        /** The application's name and version, for the server's logs, e.g. {@code "my-app/1.2"}. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** How this client appears to others in presence, e.g. {@code Map.of("name", "Bob")}. */
        public Builder info(Map<String, ?> info) {
            JsonNode tree = Json.MAPPER.valueToTree(info);
            return info(tree);
        }

        /** As {@link #info(Map)}; must be a JSON object. */
        public Builder info(JsonNode info) {
            if (info != null && !info.isObject()) {
                throw new IllegalArgumentException("info must be a JSON object, got " + info);
            }
            this.info = info == null ? null : ((ObjectNode) info).deepCopy();
            return this;
        }

        /** Delay between reconnect attempts; default exponential with full jitter, 500 ms to 20 s. */
        public Builder backoff(Backoff backoff) {
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /** Limit for one attempt: TCP, WebSocket upgrade and the {@code connect} result; default 10 s. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /**
         * How long a publish (also history and presence) may wait for its answer, across
         * reconnects, before its future fails with {@link TetherException#TIMEOUT}; default 60 s.
         */
        public Builder publishTimeout(Duration publishTimeout) {
            this.publishTimeout = positive(publishTimeout, "publishTimeout");
            return this;
        }

        /** Where positions and the session token are kept; default a new {@link InMemoryOffsetStore}. */
        public Builder offsetStore(OffsetStore offsetStore) {
            this.offsetStore = offsetStore;
            return this;
        }

        /** Told about connection state changes; default none. */
        public Builder listener(ConnectionListener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * Where listener calls run and futures complete; default a shared cached pool of daemon
         * threads. Calls stay serialized per subscription whatever the executor. Null restores
         * the default.
         */
        public Builder callbackExecutor(Executor callbackExecutor) {
            this.callbackExecutor = callbackExecutor;
            return this;
        }

        /**
         * Netty NIO event loops to run on; default a shared group of daemon threads. The client
         * uses one loop of the group; the caller shuts the group down after closing its clients.
         */
        public Builder eventLoopGroup(EventLoopGroup eventLoopGroup) {
            this.eventLoopGroup = eventLoopGroup;
            return this;
        }

        /** A client in state {@link State#NEW}; call {@link TetherClient#connect()}. */
        public TetherClient build() {
            if (url == null) {
                throw new IllegalStateException("url is required");
            }
            return new TetherClient(new ClientConfig(url, ssl(url), tokenSupplier, refreshableToken, name, info, backoff,
                    connectTimeout, publishTimeout, offsetStore != null ? offsetStore : new InMemoryOffsetStore(),
                    listener != null ? listener : new ConnectionListener() { },
                    callbackExecutor != null ? callbackExecutor : Defaults.callbacks(),
                    eventLoopGroup != null ? eventLoopGroup : Defaults.eventLoops()));
        }

        private static SslContext ssl(URI url) {
            if (!"wss".equalsIgnoreCase(url.getScheme())) {
                return null;
            }
            try {
                return SslContextBuilder.forClient().build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot set up TLS", e);
            }
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
