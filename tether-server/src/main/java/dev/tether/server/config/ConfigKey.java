package dev.tether.server.config;

import static dev.tether.server.config.ValueType.BOOLEAN;
import static dev.tether.server.config.ValueType.BYTES;
import static dev.tether.server.config.ValueType.DIRECTORY;
import static dev.tether.server.config.ValueType.DURATION;
import static dev.tether.server.config.ValueType.INT;
import static dev.tether.server.config.ValueType.LIST;
import static dev.tether.server.config.ValueType.MEMORY;
import static dev.tether.server.config.ValueType.SECRET;
import static dev.tether.server.config.ValueType.TEXT;
import static dev.tether.server.config.ValueType.URL_PATH;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * Every configuration key, once. The command-line flags, the environment variable names, the YAML
 * keys, the defaults of {@link TetherConfig} and the table in docs/configuration.md are all derived
 * from this table, so they cannot drift apart. Order here is the order of help and docs.
 *
 * <p>The key is the constant's name in kebab case ({@code PING_INTERVAL} is {@code ping-interval},
 * flag {@code --ping-interval}, environment variable {@code TETHER_PING_INTERVAL}).
 */
public enum ConfigKey {
    HOST(TEXT, "127.0.0.1", "Address to listen on; 0.0.0.0 listens on every interface.",
            (b, v) -> b.host((String) v)),
    PORT(INT, "8080", "TCP port to listen on; 0 picks a free port.",
            (b, v) -> b.port((Integer) v)),
    PATH(URL_PATH, "/ws", "URL path of the WebSocket endpoint.",
            (b, v) -> b.wsPath((String) v)),
    ECHO_PATH(URL_PATH, null, "URL path of a WebSocket that echoes every frame back, for testing; unset = off.",
            (b, v) -> b.echoPath((String) v)),
    STATIC_DIR(DIRECTORY, null, "Directory of files served at /; unset = the built-in demo pages.",
            (b, v) -> b.staticDir((Path) v)),
    PING_INTERVAL(DURATION, "25s", "Time between the server's pings on each connection.",
            (b, v) -> b.pingInterval((Duration) v)),
    PONG_TIMEOUT(DURATION, "10s", "Time a client has to answer a ping before it is closed with 4001.",
            (b, v) -> b.pongTimeout((Duration) v)),
    CONNECT_TIMEOUT(DURATION, "10s", "Time a new WebSocket has to send connect before it is closed with 4004.",
            (b, v) -> b.connectTimeout((Duration) v)),
    SESSION_TTL(DURATION, "120s", "How long a disconnected session can still be resumed.",
            (b, v) -> b.sessionTtl((Duration) v)),
    MAX_DETACHED_SESSIONS(INT, "100000", "Dropped sessions kept for resume at once; one more ends the session"
            + " waiting longest, as if its session-ttl had run out (its client then gets a fresh session and recovers"
            + " by since). Keep it above max-connections plus the sessions normally waiting, so that a network cut"
            + " dropping every connection at once can keep all their sessions.",
            (b, v) -> b.maxDetachedSessions((Integer) v)),
    HISTORY_SIZE(INT, "1000", "Publications kept per channel, 1 to 1000000.",
            (b, v) -> b.historySize((Integer) v)),
    HISTORY_AGE(DURATION, "1h", "Age at which a publication leaves its channel's history.",
            (b, v) -> b.historyAge((Duration) v)),
    // No setter: each namespace's missing fields come from history-size and history-age, so the loader
    // resolves them after those two (see NamespaceSpecs).
    NAMESPACES(ValueType.NAMESPACES, "", "History per namespace (the channel name before the first ':'),"
            + " e.g. chat=history-size:100,history-age:10m; fields left out come from history-size and history-age.",
            null),
    DEDUP_WINDOW(DURATION, "5m", "How long a publish key is remembered, making a resend with that key a no-op.",
            (b, v) -> b.dedupWindow((Duration) v)),
    DEDUP_MAX_KEYS(INT, "1000000", "Publish keys one channel remembers at once, 1 to 10000000 (about 40 bytes of"
            + " heap each plus the key's UTF-8 length; arrays are sized in powers of two, so up to about twice that);"
            + " a publish with a new key beyond that is refused with error 107 and retryAfter until the"
            + " oldest key expires, so a key is never forgotten early. This caps keyed publishes per channel at"
            + " dedup-max-keys per dedup-window (1000000 per 5 min: 3333/s sustained).",
            (b, v) -> b.dedupMaxKeys((Integer) v)),
    HISTORY_MEMORY(MEMORY, "25%", "Memory all channels together may use for history, publish keys and the"
            + " channels themselves, in bytes (e.g. 512MiB, at least 64KiB) or as a share of the JVM's maximum heap"
            + " (e.g. 25%). Above it the oldest publications of any channel leave history first (recovery from"
            + " before them reports a retention gap) and channels without subscribers or history are dropped;"
            + " once keys fill half of it, a new key is refused with error 107 and retryAfter.",
            (b, v) -> b.historyMemory((MemoryLimit) v)),
    WINDOW(INT, "1024", "Publications sent but not yet acknowledged per subscription, for clients that ack.",
            (b, v) -> b.window((Integer) v)),
    MAX_FRAME_BYTES(BYTES, "64KiB", "Largest WebSocket frame accepted, in bytes; a larger one closes with 1009.",
            (b, v) -> b.maxFrameBytes((Integer) v)),
    MAX_PUBLICATION_BYTES(BYTES, "64KiB", "Largest publication data (serialized JSON), in bytes, at most"
            + " max-frame-bytes; larger gets error 108.",
            (b, v) -> b.maxPublicationBytes((Integer) v)),
    ALLOWED_ORIGINS(LIST, "", "Comma-separated browser origins allowed to open a WebSocket or call /api/*, e.g. https://app.example.com;"
            + " unset = the server's own origin only; * = any origin.",
            (b, v) -> b.allowedOrigins(ValueType.list(v))),
    API_KEY(SECRET, null, "Bearer key the HTTP API (/api/...) requires; unset = no key. Prefer the environment"
            + " variable: flags are visible to every user of the machine.",
            (b, v) -> b.apiKey((String) v)),
    SHUTDOWN_DRAIN(DURATION, "5s", "Time over which connections are closed on shutdown, so that clients do not"
            + " all come back at once; 0s closes them all at once.",
            (b, v) -> b.shutdownDrain((Duration) v)),
    MAX_CONNECTIONS(INT, "100000", "Connections served at once; more are closed with 4003.",
            (b, v) -> b.maxConnections((Integer) v)),
    MAX_SUBSCRIPTIONS_PER_CONNECTION(INT, "1024", "Channels one connection may be subscribed to at once.",
            (b, v) -> b.maxSubscriptionsPerConnection((Integer) v)),
    MAX_PUBLISH_RATE(INT, "0", "Publications per second one connection may send; 0 = unlimited.",
            (b, v) -> b.maxPublishRate((Integer) v)),
    WRITE_BUFFER_HIGH_WATER_MARK(BYTES, "64KiB", "Bytes queued on a socket above which it counts as unwritable:"
            + " its publications wait in channel history until it drains.",
            (b, v) -> b.writeBufferHighWaterMark((Integer) v)),
    MAX_PENDING_WRITE_BYTES(BYTES, "1MiB", "Bytes of replies and pushes queued for one connection beyond which"
            + " it is closed as a slow consumer; at least write-buffer-high-water-mark.",
            (b, v) -> b.maxPendingWriteBytes((Integer) v)),
    TOKEN_SECRET(SECRET, null, "HS256 secret that verifies connect tokens; unset = tokens are not verified."
            + " Prefer the environment variable.",
            (b, v) -> b.tokenSecret((String) v)),
    ALLOW_ANONYMOUS(BOOLEAN, "true", "Whether a connect without a token is accepted.",
            (b, v) -> b.allowAnonymous((Boolean) v)),
    NODE_NAME(TEXT, "n1", "Name of this server, reported to clients in the connect result and in logs.",
            (b, v) -> b.nodeName((String) v)),
    NATIVE_TRANSPORT(BOOLEAN, "true", "Use epoll when the platform has it; false = the portable NIO transport.",
            (b, v) -> b.nativeTransport((Boolean) v)),
    IO_THREADS(INT, "0", "Event-loop threads that serve the connections, 0 to 1024; 0 = Netty's default, twice the"
            + " CPUs the JVM may use (its container's CPU limit included).",
            (b, v) -> b.ioThreads((Integer) v)),
    HTTP_IDLE_TIMEOUT(DURATION, "30s", "Time an HTTP connection may stay idle, or take to send its request,"
            + " before it is closed; does not apply once a WebSocket is open (that is the heartbeat's job).",
            (b, v) -> b.httpIdleTimeout((Duration) v));

    private final ValueType type;
    private final String defaultText;
    private final String description;
    private final BiConsumer<TetherConfig.Builder, Object> setter;

    ConfigKey(ValueType type, String defaultText, String description,
            BiConsumer<TetherConfig.Builder, Object> setter) {
        this.type = type;
        this.defaultText = defaultText;
        this.description = description;
        this.setter = setter;
    }

    /** The kebab-case name, also the YAML key: {@code ping-interval}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The command-line flag; {@code --namespace} is singular because it is given once per namespace. */
    public String flag() {
        return this == NAMESPACES ? "--namespace" : "--" + key();
    }

    /** The environment variable: {@code TETHER_PING_INTERVAL}. */
    public String envName() {
        return "TETHER_" + name();
    }

    public ValueType type() {
        return type;
    }

    /** The default in the syntax a user would write it; null when the default is "unset". */
    public String defaultText() {
        return defaultText;
    }

    /** The default as shown in help and docs. */
    public String defaultShown() {
        return defaultText == null || defaultText.isEmpty() ? "unset" : defaultText;
    }

    /** One line, with the unit where there is one. */
    public String description() {
        return description;
    }

    public static Optional<ConfigKey> byKey(String key) {
        for (ConfigKey k : values()) {
            if (k.key().equals(key)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /** Sets a parsed value on the builder. Not for {@link #NAMESPACES}, which the loader resolves itself. */
    void apply(TetherConfig.Builder builder, Object value) {
        if (setter == null) {
            throw new IllegalStateException(this + " has no plain setter");
        }
        setter.accept(builder, value);
    }

    /** A builder holding every default of this table; the single source of {@link TetherConfig#defaults()}. */
    static TetherConfig.Builder defaultsInto(TetherConfig.Builder builder) {
        for (ConfigKey k : values()) {
            if (k.setter != null) {
                k.apply(builder, k.defaultText == null ? null : k.type.parse(k.defaultText));
            }
        }
        return builder;
    }
}
