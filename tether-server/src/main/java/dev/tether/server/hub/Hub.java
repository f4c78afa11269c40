package dev.tether.server.hub;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.tether.server.auth.TokenVerifier;
import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.AppendResult;
import dev.tether.server.broker.Broker;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.KeyLimitException;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.metrics.TetherMetrics;
import dev.tether.server.presence.ClientInfo;
import dev.tether.server.presence.PresenceListener;
import dev.tether.server.presence.PresenceRegistry;
import dev.tether.server.protocol.Json;
import dev.tether.server.protocol.StreamPosition;
import dev.tether.server.session.SessionState;
import dev.tether.server.session.SessionStore;
import dev.tether.server.util.WarningThrottle;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's shared state: which connections exist, which connection holds which session, and
 * which subscriptions each channel has on this node. Everything per connection lives in
 * {@link Connection}, owned by its event loop; everything here is safe from any thread.
 */
public final class Hub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Hub.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    final TetherConfig config;
    final Broker broker;
    final PresenceRegistry presence;
    final SessionStore sessions;
    final TetherMetrics metrics;
    final TokenVerifier tokens;
    final Clock clock;
    /** One heartbeat sweep per event loop (pings, pong and connect deadlines). */
    private final ConcurrentHashMap<EventLoop, Heartbeats> heartbeats = new ConcurrentHashMap<>();
    private final long heartbeatTickMillis;

    /** Channel name to its subscribers on this node; entries live while subscribers > 0 (compute-guarded). */
    private final ConcurrentHashMap<String, ChannelFanout> fanouts = new ConcurrentHashMap<>();
    /** Session id to the live connection holding it. */
    private final ConcurrentHashMap<String, Connection> attached = new ConcurrentHashMap<>();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;
    private final long startedAtMillis;
    /** Slow consumers closed: one warning a minute for all connections. */
    final WarningThrottle slowConsumerWarning;
    /** WebSocket upgrades refused for their Origin: one warning a minute for all connections. */
    public final WarningThrottle refusedOriginWarning;

    public Hub(TetherConfig config, Broker broker, PresenceRegistry presence, SessionStore sessions,
               TetherMetrics metrics, Clock clock) {
        this.config = config;
        this.broker = broker;
        this.presence = presence;
        this.sessions = sessions;
        this.metrics = metrics;
        this.clock = clock;
        this.tokens = new TokenVerifier(config.tokenSecret(), clock);
        this.startedAtMillis = clock.millis();
        this.slowConsumerWarning = new WarningThrottle(Duration.ofMinutes(1), clock);
        this.refusedOriginWarning = new WarningThrottle(Duration.ofMinutes(1), clock);
        long shortest = Math.min(config.connectTimeout().toMillis(),
                Math.min(config.pingInterval().toMillis(), config.pongTimeout().toMillis()));
        this.heartbeatTickMillis = Math.max(5, Math.min(1000, shortest / 10));
        broker.setListener((channel, top) -> {
            ChannelFanout f = fanouts.get(channel);
            if (f != null) {
                f.wake();
            }
        });
        presence.setListener(new PresenceListener() {
            @Override
            public void joined(String channel, ClientInfo client) {
                broadcastPresence("join", channel, client);
            }

            @Override
            public void left(String channel, ClientInfo client) {
                broadcastPresence("leave", channel, client);
            }
        });
        sessions.setExpiryListener(this::sessionExpired);
        metrics.gauge("tether_connections", "open WebSocket connections", connections, Set::size);
        metrics.gauge("tether_sessions", "sessions: attached to a connection plus detached awaiting resume", this,
                h -> h.attached.size() + h.sessions.size());
        metrics.gauge("tether_sessions_detached", "detached sessions awaiting resume", sessions, SessionStore::size);
        metrics.counter("tether_sessions_evicted", "detached sessions ended before their session-ttl because"
                + " max-detached-sessions were kept", sessions, SessionStore::evicted);
        metrics.gauge("tether_subscriptions", "subscriptions on this node", this, Hub::subscriptionCount);
        metrics.gauge("tether_channels", "channels with subscribers on this node", fanouts, Map::size);
        metrics.gauge("tether_publish_keys", "idempotency keys remembered within the dedup window, all channels", broker,
                Broker::rememberedKeys);
        metrics.gauge("tether_history_memory_bytes", "bytes the stored channels keep alive: history, publish keys and"
                + " the channels themselves (history-memory counts these)", broker, Broker::memoryBytes);
        metrics.gauge("tether_history_memory_limit_bytes", "history-memory: the limit on tether_history_memory_bytes",
                broker, Broker::memoryLimit);
        metrics.gauge("tether_history_memory_key_bytes", "of tether_history_memory_bytes, the idempotency keys (at most"
                + " about half the limit: new keys are refused once they fill half)", broker, Broker::keyMemoryBytes);
        metrics.counter("tether_history_memory_evictions", "publications that left history early because history-memory"
                + " was reached", broker, Broker::publicationsEvictedForMemory);
        metrics.counter("tether_history_memory_channel_releases", "idle channels dropped early because history-memory"
                + " was reached", broker, Broker::channelsReleasedForMemory);
        metrics.gauge("tether_pending_write_bytes", "bytes written to sockets but not yet sent, all connections", this,
                Hub::pendingWriteBytes);
    }

    // --- connections and sessions ---------------------------------------------------------------

    /** The heartbeat sweep of {@code loop}, made on first use. */
    Heartbeats heartbeats(EventLoop loop) {
        Heartbeats h = heartbeats.get(loop);
        if (h == null) {
            h = heartbeats.computeIfAbsent(loop, l -> new Heartbeats(l, heartbeatTickMillis));
        }
        return h;
    }

    boolean register(Connection c) {
        connections.add(c);
        return connections.size() <= config.maxConnections();
    }

    void unregister(Connection c) {
        connections.remove(c);
    }

    /** Bytes queued in Netty for all connections; bounded by the high water mark per slow consumer. */
    public long pendingWriteBytes() {
        long n = 0;
        for (Connection c : connections) {
            n += c.pendingWriteBytes();
        }
        return n;
    }

    public int connectionCount() {
        return connections.size();
    }

    public boolean draining() {
        return draining;
    }

    String newSessionId() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        return "s-" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    String newClientId() {
        return "c-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE).substring(0, 12);
    }

    /**
     * Gets a session of {@code user} for resume: takes it over from the live connection holding it
     * (which is closed with 4502) or from the store of detached sessions. Completes with null when it
     * is gone or belongs to another user; another user's session is left untouched (protocol.md D).
     */
    CompletableFuture<SessionState> claimSession(String sessionId, String user) {
        Connection holder = attached.get(sessionId);
        if (holder != null) {
            return holder.handOver(sessionId, user).thenApply(s -> s != null ? s : sessions.takeOwn(sessionId, user));
        }
        return CompletableFuture.completedFuture(sessions.takeOwn(sessionId, user));
    }

    /** Records that {@code c} holds the session; false if another connection got there first. */
    boolean attach(String sessionId, Connection c) {
        return attached.putIfAbsent(sessionId, c) == null;
    }

    void detach(String sessionId, Connection c) {
        attached.remove(sessionId, c);
    }

    private void sessionExpired(SessionState s) {
        log.debug("session {} of client {} ended unresumed (session-ttl ran out, or max-detached-sessions made room)",
                s.id(), s.client());
        for (SessionState.SubscriptionState sub : s.subscriptions()) {
            presence.leave(sub.channel(), s.client());
        }
    }

    // --- channels ----------------------------------------------------------------------------

    /** Called on the subscription's event loop. */
    void addSubscriber(Subscription s) {
        ChannelFanout f = fanouts.compute(s.channel, (name, cur) -> {
            ChannelFanout fan = cur != null ? cur : new ChannelFanout(name);
            fan.subscribers++;
            return fan;
        });
        f.add(s);
    }

    /** Called on the subscription's event loop. */
    void removeSubscriber(Subscription s) {
        ChannelFanout f = fanouts.get(s.channel);
        if (f == null) {
            return;
        }
        f.remove(s);
        fanouts.computeIfPresent(s.channel, (name, cur) -> --cur.subscribers <= 0 ? null : cur);
    }

    /** Channels with local subscribers and with history, and their subscriber counts. */
    public Map<String, Integer> channelSubscribers() {
        Map<String, Integer> out = new TreeMap<>();
        broker.channels().keySet().forEach(c -> out.put(c, 0));
        fanouts.forEach((c, f) -> out.put(c, f.subscribers));
        return out;
    }

    public int detachedSessionCount() {
        return sessions.size();
    }

    public int subscriptionCount() {
        int n = 0;
        for (ChannelFanout f : fanouts.values()) {
            n += f.subscribers;
        }
        return n;
    }

    private void broadcastPresence(String op, String channel, ClientInfo client) {
        ChannelFanout f = fanouts.get(channel);
        if (f == null) {
            return;
        }
        byte[] json = Json.writeBytes(g -> {
            g.writeStartObject();
            g.writeStringField("op", op);
            g.writeStringField("channel", channel);
            g.writeStringField("client", client.client());
            g.writeStringField("user", client.user());
            if (client.infoJson() != null) {
                g.writeFieldName("info");
                g.writeRawValue(client.infoJson());
            }
            g.writeEndObject();
        });
        ByteBuf shared = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(json));
        f.broadcastPresence(shared);
    }

    /** Stores a publication (used by the publish command and {@code POST /api/publish}). */
    public CompletableFuture<AppendResult> publish(String channel, AppendRequest request) {
        ChannelStream stream = broker.open(channel);
        CompletableFuture<AppendResult> result;
        try {
            result = stream.append(request);
        } catch (RuntimeException e) {
            stream.close();
            return CompletableFuture.failedFuture(e);
        }
        return result.whenComplete((r, err) -> {
            stream.close();
            if (r != null) {
                (r.duplicate() ? metrics.duplicatePublications : metrics.publications).increment();
            } else if (unwrap(err) instanceof KeyLimitException) {
                metrics.keyLimitRefusals.increment();
            }
        });
    }

    /** The cause of a failed future's exception ({@code CompletionException} wraps it when chained). */
    public static Throwable unwrap(Throwable err) {
        return err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    }

    /** Answers a history query (the command and {@code GET /api/history}). */
    public HistoryPage history(String channel, StreamPosition since, int limit) {
        try (ChannelStream stream = broker.open(channel)) {
            return HistoryPage.read(stream, since, limit);
        }
    }

    /** Writes {@code "clients":[...]} for the presence command and {@code GET /api/presence}. */
    public static void writePresence(JsonGenerator g, List<ClientInfo> clients) throws IOException {
        g.writeArrayFieldStart("clients");
        for (ClientInfo ci : clients) {
            g.writeStartObject();
            g.writeStringField("client", ci.client());
            g.writeStringField("user", ci.user());
            if (ci.infoJson() != null) {
                g.writeFieldName("info");
                g.writeRawValue(ci.infoJson());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    public PresenceRegistry presence() {
        return presence;
    }

    public Broker broker() {
        return broker;
    }

    public long uptimeMillis() {
        return clock.millis() - startedAtMillis;
    }

    public TetherMetrics metrics() {
        return metrics;
    }

    public int sessionCount() {
        return attached.size() + sessions.size();
    }

    // --- shutdown ----------------------------------------------------------------------------

    /**
     * Starts draining: every connection gets {@code disconnect 4000}, spread evenly over
     * {@code drain} so clients do not all come back at once. Completes when all are closed.
     */
    public CompletableFuture<Void> drain(Duration drain) {
        draining = true;
        List<Connection> all = new ArrayList<>(connections);
        java.util.Collections.shuffle(all);
        List<CompletableFuture<Void>> closed = new ArrayList<>(all.size());
        long spreadNanos = drain.toNanos();
        for (int i = 0; i < all.size(); i++) {
            Connection c = all.get(i);
            long at = all.size() <= 1 ? 0 : spreadNanos * i / all.size();
            closed.add(c.closeFuture());
            // On the connection's own loop: no timer thread that would wake up for nothing later.
            try {
                c.eventLoop().schedule(c::shutdownDisconnect, at, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                c.shutdownDisconnect();
            }
        }
        log.debug("draining {} connections over {} ms", all.size(), drain.toMillis()); // TetherServer says it at INFO
        return CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new));
    }

    @Override
    public void close() {
        heartbeats.values().forEach(Heartbeats::stop);
        sessions.close();
        broker.close();
    }
}
