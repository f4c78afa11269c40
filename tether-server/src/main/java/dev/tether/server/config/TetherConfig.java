package dev.tether.server.config;

import static dev.tether.server.config.Checks.atLeast;
import static dev.tether.server.config.Checks.between;
import static dev.tether.server.config.Checks.notBlank;
import static dev.tether.server.config.Checks.notNegative;
import static dev.tether.server.config.Checks.nullOrNotBlank;
import static dev.tether.server.config.Checks.positive;
import static dev.tether.server.config.Checks.required;
import static dev.tether.server.config.Checks.urlPath;

import dev.tether.server.protocol.ChannelNames;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The server's whole configuration, immutable and valid by construction: the canonical constructor
 * rejects anything the server could not run with, with a {@link ConfigException} naming the key.
 * Defaults, units and meanings of every component are in {@link ConfigKey}, the one table that flags,
 * environment variables, YAML and docs are derived from.
 */
public record TetherConfig(
        String host,
        int port,
        String wsPath,
        String echoPath,
        Path staticDir,
        Duration pingInterval,
        Duration pongTimeout,
        Duration connectTimeout,
        Duration sessionTtl,
        int maxDetachedSessions,
        HistoryPolicy history,
        Map<String, HistoryPolicy> namespaces,
        Duration dedupWindow,
        int dedupMaxKeys,
        MemoryLimit historyMemory,
        int window,
        int maxFrameBytes,
        int maxPublicationBytes,
        List<String> allowedOrigins,
        String apiKey,
        Duration shutdownDrain,
        int maxConnections,
        int maxSubscriptionsPerConnection,
        int maxPublishRate,
        int writeBufferHighWaterMark,
        int maxPendingWriteBytes,
        String tokenSecret,
        boolean allowAnonymous,
        String nodeName,
        boolean nativeTransport,
        int ioThreads,
        Duration httpIdleTimeout) {

    static final int MAX_HISTORY_SIZE = 1_000_000;
    static final int MAX_DEDUP_KEYS = 10_000_000;
    static final int MAX_IO_THREADS = 1024;
    private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Set<String> SECRETS = Set.of("apiKey", "tokenSecret");
    private static final TetherConfig DEFAULTS = ConfigKey.defaultsInto(new Builder()).build();

    /** How much of a channel's history is kept: at most {@code size} publications, none older than maxAge. */
    public record HistoryPolicy(int size, Duration maxAge) {
        public HistoryPolicy {
            between(ConfigKey.HISTORY_SIZE, size, 1, MAX_HISTORY_SIZE);
            positive(ConfigKey.HISTORY_AGE, maxAge);
        }
    }

    public TetherConfig {
        notBlank(ConfigKey.HOST, host);
        between(ConfigKey.PORT, port, 0, 65535);
        urlPath(ConfigKey.PATH, required(ConfigKey.PATH, wsPath));
        urlPath(ConfigKey.ECHO_PATH, echoPath);
        if (wsPath.equals(echoPath)) {
            throw new ConfigException(ConfigKey.ECHO_PATH.key(), "must differ from path, both are " + wsPath);
        }
        positive(ConfigKey.PING_INTERVAL, pingInterval);
        positive(ConfigKey.PONG_TIMEOUT, pongTimeout);
        positive(ConfigKey.HTTP_IDLE_TIMEOUT, httpIdleTimeout);
        between(ConfigKey.IO_THREADS, ioThreads, 0, MAX_IO_THREADS);
        positive(ConfigKey.CONNECT_TIMEOUT, connectTimeout);
        positive(ConfigKey.SESSION_TTL, sessionTtl);
        atLeast(ConfigKey.MAX_DETACHED_SESSIONS, maxDetachedSessions, 1);
        required(ConfigKey.HISTORY_SIZE, history);
        namespaces = checkedNamespaces(namespaces);
        positive(ConfigKey.DEDUP_WINDOW, dedupWindow);
        between(ConfigKey.DEDUP_MAX_KEYS, dedupMaxKeys, 1, MAX_DEDUP_KEYS);
        required(ConfigKey.HISTORY_MEMORY, historyMemory);
        atLeast(ConfigKey.WINDOW, window, 1);
        atLeast(ConfigKey.MAX_FRAME_BYTES, maxFrameBytes, 1);
        atLeast(ConfigKey.MAX_PUBLICATION_BYTES, maxPublicationBytes, 1);
        if (maxPublicationBytes > maxFrameBytes) {
            throw new ConfigException(ConfigKey.MAX_PUBLICATION_BYTES.key(), "must be at most max-frame-bytes ("
                    + maxFrameBytes + "), got " + maxPublicationBytes);
        }
        allowedOrigins = checkedOrigins(allowedOrigins);
        nullOrNotBlank(ConfigKey.API_KEY, apiKey);
        notNegative(ConfigKey.SHUTDOWN_DRAIN, shutdownDrain);
        atLeast(ConfigKey.MAX_CONNECTIONS, maxConnections, 1);
        atLeast(ConfigKey.MAX_SUBSCRIPTIONS_PER_CONNECTION, maxSubscriptionsPerConnection, 1);
        atLeast(ConfigKey.MAX_PUBLISH_RATE, maxPublishRate, 0);
        atLeast(ConfigKey.WRITE_BUFFER_HIGH_WATER_MARK, writeBufferHighWaterMark, 1);
        // Below the high-water mark the socket would never count as unwritable before the connection is cut.
        if (maxPendingWriteBytes < writeBufferHighWaterMark) {
            throw new ConfigException(ConfigKey.MAX_PENDING_WRITE_BYTES.key(), "must be at least"
                    + " write-buffer-high-water-mark (" + writeBufferHighWaterMark + "), got " + maxPendingWriteBytes);
        }
        nullOrNotBlank(ConfigKey.TOKEN_SECRET, tokenSecret);
        if (!NODE_NAME.matcher(required(ConfigKey.NODE_NAME, nodeName)).matches()) {
            throw new ConfigException(ConfigKey.NODE_NAME.key(), "must be 1 to 64 letters, digits, '_', '.' or '-', got "
                    + ConfigException.quote(nodeName));
        }
    }

    /** The defaults of {@link ConfigKey}. */
    public static TetherConfig defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return DEFAULTS.toBuilder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The history policy of the channel's namespace if it has one, else the default policy. */
    public HistoryPolicy historyFor(String channel) {
        return namespaces.getOrDefault(ChannelNames.namespace(channel), history);
    }

    /** As the record's, with secrets replaced by {@code ***}: configs end up in logs. */
    @Override
    public String toString() {
        StringJoiner out = new StringJoiner(", ", "TetherConfig[", "]");
        for (RecordComponent c : TetherConfig.class.getRecordComponents()) {
            Object value;
            try {
                value = c.getAccessor().invoke(this);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            boolean hide = SECRETS.contains(c.getName()) && value != null;
            out.add(c.getName() + "=" + (hide ? "***" : value));
        }
        return out.toString();
    }

    private static Map<String, HistoryPolicy> checkedNamespaces(Map<String, HistoryPolicy> namespaces) {
        required(ConfigKey.NAMESPACES, namespaces);
        namespaces.forEach((name, policy) -> {
            NamespaceSpecs.checkName(name);
            if (policy == null) {
                throw new ConfigException(ConfigKey.NAMESPACES.key(), "namespace " + name + " has no history policy");
            }
        });
        // Sorted so that logs and toString are stable.
        return Collections.unmodifiableMap(new TreeMap<>(namespaces));
    }

    /**
     * An origin as browsers send it, scheme://host[:port] without a path or trailing slash, that the
     * server's own check ({@link WebOrigin}) reads the same way.
     */
    private static boolean isOrigin(String origin) {
        return !origin.endsWith("/") && origin.strip().equals(origin) && WebOrigin.parse(origin) != null;
    }

    private static List<String> checkedOrigins(List<String> origins) {
        required(ConfigKey.ALLOWED_ORIGINS, origins);
        for (String origin : origins) {
            if (origin == null || !(origin.equals("*") || isOrigin(origin))) {
                throw new ConfigException(ConfigKey.ALLOWED_ORIGINS.key(), ConfigException.quote(origin)
                        + " is not an origin; write scheme://host[:port] without a path, e.g. https://app.example.com");
            }
        }
        return List.copyOf(origins);
    }

    /** Fluent and mutable; {@link #build()} validates. One setter per component, named after it. */
    public static final class Builder {
        private String host;
        private int port;
        private String wsPath;
        private String echoPath;
        private Path staticDir;
        private Duration pingInterval;
        private Duration pongTimeout;
        private Duration connectTimeout;
        private Duration sessionTtl;
        private int maxDetachedSessions;
        // Kept as two fields so history-size and history-age can be set one at a time, in any order.
        private int historySize;
        private Duration historyAge;
        private Map<String, HistoryPolicy> namespaces = new LinkedHashMap<>();
        private Duration dedupWindow;
        private int dedupMaxKeys;
        private MemoryLimit historyMemory;
        private int window;
        private int maxFrameBytes;
        private int maxPublicationBytes;
        private List<String> allowedOrigins = List.of();
        private String apiKey;
        private Duration shutdownDrain;
        private int maxConnections;
        private int maxSubscriptionsPerConnection;
        private int maxPublishRate;
        private int writeBufferHighWaterMark;
        private int maxPendingWriteBytes;
        private String tokenSecret;
        private boolean allowAnonymous;
        private String nodeName;
        private boolean nativeTransport;
        private int ioThreads;
        private Duration httpIdleTimeout;

        /** Empty; only {@link ConfigKey#defaultsInto} starts here. */
        Builder() {
        }

        private Builder(TetherConfig c) {
            host = c.host;
            port = c.port;
            wsPath = c.wsPath;
            echoPath = c.echoPath;
            staticDir = c.staticDir;
            pingInterval = c.pingInterval;
            pongTimeout = c.pongTimeout;
            connectTimeout = c.connectTimeout;
            sessionTtl = c.sessionTtl;
            maxDetachedSessions = c.maxDetachedSessions;
            history(c.history);
            namespaces = new LinkedHashMap<>(c.namespaces);
            dedupWindow = c.dedupWindow;
            dedupMaxKeys = c.dedupMaxKeys;
            historyMemory = c.historyMemory;
            window = c.window;
            maxFrameBytes = c.maxFrameBytes;
            maxPublicationBytes = c.maxPublicationBytes;
            allowedOrigins = c.allowedOrigins;
            apiKey = c.apiKey;
            shutdownDrain = c.shutdownDrain;
            maxConnections = c.maxConnections;
            maxSubscriptionsPerConnection = c.maxSubscriptionsPerConnection;
            maxPublishRate = c.maxPublishRate;
            writeBufferHighWaterMark = c.writeBufferHighWaterMark;
            maxPendingWriteBytes = c.maxPendingWriteBytes;
            tokenSecret = c.tokenSecret;
            allowAnonymous = c.allowAnonymous;
            nodeName = c.nodeName;
            nativeTransport = c.nativeTransport;
            ioThreads = c.ioThreads;
            httpIdleTimeout = c.httpIdleTimeout;
        }

        /** @throws ConfigException naming the first invalid key */
        public TetherConfig build() {
            return new TetherConfig(host, port, wsPath, echoPath, staticDir, pingInterval, pongTimeout,
                    connectTimeout, sessionTtl, maxDetachedSessions, new HistoryPolicy(historySize, historyAge), namespaces, dedupWindow,
                    dedupMaxKeys, historyMemory, window, maxFrameBytes, maxPublicationBytes, allowedOrigins, apiKey, shutdownDrain,
                    maxConnections, maxSubscriptionsPerConnection, maxPublishRate, writeBufferHighWaterMark,
                    maxPendingWriteBytes, tokenSecret, allowAnonymous, nodeName, nativeTransport, ioThreads,
                    httpIdleTimeout);
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder wsPath(String wsPath) {
            this.wsPath = wsPath;
            return this;
        }

        public Builder echoPath(String echoPath) {
            this.echoPath = echoPath;
            return this;
        }

        public Builder staticDir(Path staticDir) {
            this.staticDir = staticDir;
            return this;
        }

        public Builder pingInterval(Duration pingInterval) {
            this.pingInterval = pingInterval;
            return this;
        }

        public Builder pongTimeout(Duration pongTimeout) {
            this.pongTimeout = pongTimeout;
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder sessionTtl(Duration sessionTtl) {
            this.sessionTtl = sessionTtl;
            return this;
        }

        public Builder maxDetachedSessions(int maxDetachedSessions) {
            this.maxDetachedSessions = maxDetachedSessions;
            return this;
        }

        public Builder history(HistoryPolicy history) {
            Objects.requireNonNull(history, "history");
            this.historySize = history.size();
            this.historyAge = history.maxAge();
            return this;
        }

        public Builder historySize(int historySize) {
            this.historySize = historySize;
            return this;
        }

        public Builder historyAge(Duration historyAge) {
            this.historyAge = historyAge;
            return this;
        }

        /** Replaces every namespace override. */
        public Builder namespaces(Map<String, HistoryPolicy> namespaces) {
            this.namespaces = new LinkedHashMap<>(Objects.requireNonNull(namespaces, "namespaces"));
            return this;
        }

        /** Adds or replaces the override for one namespace. */
        public Builder namespace(String name, HistoryPolicy history) {
            this.namespaces.put(name, history);
            return this;
        }

        public Builder dedupWindow(Duration dedupWindow) {
            this.dedupWindow = dedupWindow;
            return this;
        }

        public Builder dedupMaxKeys(int dedupMaxKeys) {
            this.dedupMaxKeys = dedupMaxKeys;
            return this;
        }

        public Builder historyMemory(MemoryLimit historyMemory) {
            this.historyMemory = historyMemory;
            return this;
        }

        public Builder window(int window) {
            this.window = window;
            return this;
        }

        public Builder maxFrameBytes(int maxFrameBytes) {
            this.maxFrameBytes = maxFrameBytes;
            return this;
        }

        public Builder maxPublicationBytes(int maxPublicationBytes) {
            this.maxPublicationBytes = maxPublicationBytes;
            return this;
        }

        public Builder allowedOrigins(List<String> allowedOrigins) {
            this.allowedOrigins = allowedOrigins;
            return this;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        public Builder shutdownDrain(Duration shutdownDrain) {
            this.shutdownDrain = shutdownDrain;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        public Builder maxSubscriptionsPerConnection(int maxSubscriptionsPerConnection) {
            this.maxSubscriptionsPerConnection = maxSubscriptionsPerConnection;
            return this;
        }

        public Builder maxPublishRate(int maxPublishRate) {
            this.maxPublishRate = maxPublishRate;
            return this;
        }

        public Builder writeBufferHighWaterMark(int writeBufferHighWaterMark) {
            this.writeBufferHighWaterMark = writeBufferHighWaterMark;
            return this;
        }

        public Builder maxPendingWriteBytes(int maxPendingWriteBytes) {
            this.maxPendingWriteBytes = maxPendingWriteBytes;
            return this;
        }

        public Builder tokenSecret(String tokenSecret) {
            this.tokenSecret = tokenSecret;
            return this;
        }

        public Builder allowAnonymous(boolean allowAnonymous) {
            this.allowAnonymous = allowAnonymous;
            return this;
        }

        public Builder nodeName(String nodeName) {
            this.nodeName = nodeName;
            return this;
        }

        public Builder nativeTransport(boolean nativeTransport) {
            this.nativeTransport = nativeTransport;
            return this;
        }

        public Builder ioThreads(int ioThreads) {
            this.ioThreads = ioThreads;
            return this;
        }

        public Builder httpIdleTimeout(Duration httpIdleTimeout) {
            this.httpIdleTimeout = httpIdleTimeout;
            return this;
        }
    }
}
