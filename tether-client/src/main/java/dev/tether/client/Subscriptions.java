package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every subscription of one client, and what the server holds on the current connection.
 *
 * <p>The application states what it wants ({@link #wanted}); on the event loop,
 * {@link #reconcile} makes the server's side ({@link #onServer}) match it, whatever order
 * subscribes, unsubscribes, resumes and drops happen in. Publications pass the exactly-once filter
 * of their subscription here, and acknowledgements leave from here.
 *
 * <p>Threads: {@link #wanted} is a concurrent map (callers add, callers and the loop remove);
 * every other field belongs to the client's event loop.
 */
final class Subscriptions {
    private static final Logger log = LoggerFactory.getLogger(Subscriptions.class);
    /** Delay before subscribing again after a temporary error. */
    static final long RETRY_MILLIS = 1000;

    private final EventLoop loop;
    private final Scheduler scheduler;
    private final Executor callbackExecutor;
    private final OffsetStore store;
    /** What the application wants: channel to its live subscription. */
    private final ConcurrentMap<String, ClientSubscription> wanted = new ConcurrentHashMap<>();
    /**
     * What the server holds on {@link #conn}: channel to the subscription it serves, or to null for
     * one restored with the session that nobody here wants (it is being unsubscribed).
     */
    private final Map<String, ClientSubscription> onServer = new HashMap<>();
    /** The connection with a successful {@code connect} result, or null. */
    private Connection conn;
    private int window = 1024;
    /** Unsubscribes waiting for the server's reply; a lost connection completes them (nothing more is delivered). */
    private final List<CompletableFuture<Void>> unsubscribing = new ArrayList<>();

    Subscriptions(EventLoop loop, Scheduler scheduler, Executor callbackExecutor, OffsetStore store) {
        this.loop = loop;
        this.scheduler = scheduler;
        this.callbackExecutor = callbackExecutor;
        this.store = store;
    }

    /** Set once by {@link #closeAll}: a subscription added after it is ended at once. */
    private volatile boolean closed;

    // --- application side (any thread) -----------------------------------------------------------

    ClientSubscription subscribe(String channel, SubscriptionListener listener, SubscribeOptions options) {
        SubscribeOptions effective = options;
        if (options.since() == null) {
            StreamPosition saved = store.load(channel);
            effective = saved == null ? options : options.since(saved);
        }
        ClientSubscription sub = new ClientSubscription(channel, listener, effective, this, new SerialExecutor(callbackExecutor));
        ClientSubscription existing = wanted.putIfAbsent(channel, sub);
        if (existing != null) {
            throw new IllegalStateException("already subscribed to " + channel + "; unsubscribe first");
        }
        if (closed) {
            // Raced with close(): it may have swept the subscriptions before this one was added.
            // Ended like the others, instead of waiting in the map for a connection that never comes.
            wanted.remove(channel, sub);
            sub.close();
            return sub;
        }
        loop.execute(() -> reconcile(channel));
        return sub;
    }

    CompletableFuture<Void> unsubscribe(ClientSubscription sub) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        sub.close();
        if (!wanted.remove(sub.channel(), sub)) {
            done.complete(null);
            return done;
        }
        loop.execute(() -> {
            String channel = sub.channel();
            if (conn != null && onServer.containsKey(channel) && onServer.get(channel) == sub) {
                onServer.remove(channel);
                unsubscribing.add(done);
                conn.request(command("unsubscribe", channel), reply -> {
                    if (unsubscribing.remove(done)) {
                        callbackExecutor.execute(() -> done.complete(null));
                    }
                });
            } else {
                callbackExecutor.execute(() -> done.complete(null));
            }
            reconcile(channel);
        });
        return done;
    }

    /**
     * Any thread: ends every subscription without telling the server (the client is closing), and
     * saves in {@code store} where each one's listener got to. Completes when those saves are done.
     */
    CompletableFuture<Void> closeAll(OffsetStore store) {
        closed = true;
        List<CompletableFuture<Void>> saves = new ArrayList<>();
        for (ClientSubscription sub : wanted.values()) {
            sub.close();
            saves.add(sub.saveLast(store));
        }
        wanted.clear();
        return CompletableFuture.allOf(saves.toArray(CompletableFuture[]::new));
    }

    // --- connection lifecycle (loop) -------------------------------------------------------------

    /**
     * A connection is established. For a resumed session, {@code restored} lists the
     * subscriptions the server brought back; they are matched to ours and every difference is
     * fixed by subscribing or unsubscribing.
     *
     * @return how each restored subscription recovered
     */
    List<SubscriptionRecovery> connected(Connection c, int window, JsonNode restored) {
        this.conn = c;
        this.window = window;
        onServer.clear();
        List<SubscriptionRecovery> recoveries = new ArrayList<>();
        for (JsonNode r : restored) {
            String channel = r.path("channel").asText();
            ClientSubscription sub = wanted.get(channel);
            StreamPosition last = sub == null ? null : sub.dedupe.last();
            if (last == null) {
                // Not wanted, or never confirmed here, so we cannot tell what it has delivered: redo it.
                onServer.put(channel, null);
                continue;
            }
            onServer.put(channel, sub);
            sub.acks.window(window);
            StreamPosition top = new StreamPosition(r.path("offset").asLong(), r.path("epoch").asText());
            recoveries.add(sub.confirmed(top, last, Json.gap(r.get("gap")), true));
            ack(sub, sub.dedupe.last());
        }
        Set<String> channels = new LinkedHashSet<>(onServer.keySet());
        channels.addAll(wanted.keySet());
        for (String channel : channels) {
            reconcile(channel);
        }
        return recoveries;
    }

    /** The connection is gone: nothing is held by the server any more (until a resume says otherwise). */
    void disconnected() {
        conn = null;
        onServer.clear();
        for (CompletableFuture<Void> done : unsubscribing) {
            callbackExecutor.execute(() -> done.complete(null));
        }
        unsubscribing.clear();
        for (ClientSubscription sub : wanted.values()) {
            sub.status = ClientSubscription.Status.WAITING;
        }
    }

    /** Makes the server's subscription to {@code channel} the one the application wants. */
    void reconcile(String channel) {
        if (conn == null) {
            return;
        }
        ClientSubscription want = wanted.get(channel);
        boolean held = onServer.containsKey(channel);
        ClientSubscription have = onServer.get(channel);
        if (held && (have == null || have != want)) {
            onServer.remove(channel);
            conn.request(command("unsubscribe", channel), reply -> { });
            held = false;
        }
        if (want != null && !held) {
            sendSubscribe(want);
        }
    }

    private void sendSubscribe(ClientSubscription sub) {
        Connection c = conn;
        String channel = sub.channel();
        StreamPosition since = sub.since();
        ObjectNode cmd = command("subscribe", channel);
        if (since != null) {
            cmd.set("since", Json.position(since));
        }
        if (sub.presence()) {
            cmd.put("presence", true);
        }
        onServer.put(channel, sub);
        sub.status = ClientSubscription.Status.SUBSCRIBING;
        sub.acks.window(window);
        c.request(cmd, reply -> onSubscribeReply(c, sub, since, reply));
        // Protocol E: an ack in the same frame, read by the server right after the subscribe and
        // before anything it writes could be lost. Without it, a drop before the result's own ack
        // reaches the server makes it count everything it wrote as delivered, and a resume skips that.
        ObjectNode early = command("ack", channel);
        early.put("offset", since != null ? since.offset() : 0);
        c.send(early);
    }

    private void onSubscribeReply(Connection c, ClientSubscription sub, StreamPosition since, JsonNode reply) {
        String channel = sub.channel();
        if (c != conn || onServer.get(channel) != sub) {
            return; // superseded: unsubscribed or replaced meanwhile, and the server was told
        }
        JsonNode error = reply.get("error");
        if (error != null) {
            TetherException e = Json.error(error);
            onServer.remove(channel);
            sub.status = ClientSubscription.Status.WAITING;
            if (e.code() == 110) {
                // The server holds a subscription we do not know about: replace it.
                onServer.put(channel, null);
                reconcile(channel);
            } else if (e.temporary()) {
                scheduler.schedule(() -> reconcile(channel), RETRY_MILLIS);
            } else {
                log.warn("subscription to {} refused: {}", channel, e.getMessage());
                wanted.remove(channel, sub);
                sub.fail(e);
            }
            return;
        }
        JsonNode result = reply.path("result");
        StreamPosition top = new StreamPosition(result.path("offset").asLong(), result.path("epoch").asText());
        sub.confirmed(top, since, Json.gap(result.get("gap")), false);
        // Protocol section E: ack at once, so that a resume replays from here, never from "last written".
        ack(sub, since != null && since.epoch().equals(top.epoch()) ? since : sub.dedupe.last());
    }

    private void ack(ClientSubscription sub, StreamPosition position) {
        ObjectNode ack = command("ack", sub.channel());
        ack.put("offset", position.offset());
        conn.send(ack);
        sub.acks.sent(position);
    }

    // --- inbound pushes (loop) -------------------------------------------------------------------

    void publication(Connection c, JsonNode pub) {
        ClientSubscription sub = active(pub.path("channel").asText());
        if (sub == null) {
            return;
        }
        long offset = pub.path("offset").asLong();
        switch (sub.dedupe.offer(offset)) {
            case DELIVER -> sub.deliver(Json.publication(sub.channel(), sub.epoch(), pub));
            case DUPLICATE -> log.trace("{}: dropped offset {}, delivered already", sub.channel(), offset);
            case HOLE -> resync(sub, offset);
        }
    }

    /**
     * Publications are missing between the last one received and {@code offset} although the
     * server promised none would be (a resume that replayed from the last offset written rather
     * than acknowledged). Subscribe again from the last one received: history fills the hole.
     */
    private void resync(ClientSubscription sub, long offset) {
        String channel = sub.channel();
        log.info("subscription {}: got offset {} after {}; subscribing again from there", channel, offset, sub.dedupe.last());
        onServer.remove(channel);
        conn.request(command("unsubscribe", channel), reply -> { });
        sendSubscribe(sub);
    }

    void presence(JsonNode push, boolean joined) {
        ClientSubscription sub = active(push.path("channel").asText());
        if (sub != null && sub.presence()) {
            sub.presenceEvent(Json.clientInfo(push), joined);
        }
    }

    private ClientSubscription active(String channel) {
        ClientSubscription sub = onServer.get(channel);
        if (sub == null || sub.status != ClientSubscription.Status.ACTIVE || sub.isClosed()) {
            return null;
        }
        return sub;
    }

    // --- acknowledgements (loop) -----------------------------------------------------------------

    /** Any thread: {@code sub}'s listener finished {@code window/2} publications; ack without waiting for the tick. */
    void flushSoon(ClientSubscription sub) {
        loop.execute(() -> flush(sub));
    }

    /** The periodic tick: acknowledges and saves what every listener has finished. */
    void flushAll() {
        for (ClientSubscription sub : onServer.values()) {
            if (sub != null) {
                flush(sub);
            }
        }
    }

    private void flush(ClientSubscription sub) {
        if (conn == null || onServer.get(sub.channel()) != sub || sub.status != ClientSubscription.Status.ACTIVE) {
            return;
        }
        StreamPosition handled = sub.position();
        if (handled != null && !handled.equals(sub.savedPosition)) {
            sub.save(store, handled);
        }
        StreamPosition due = sub.acks.due(handled, sub.epoch());
        if (due != null) {
            ObjectNode ack = command("ack", sub.channel());
            ack.put("offset", due.offset());
            conn.send(ack);
        }
    }

    private static ObjectNode command(String op, String channel) {
        ObjectNode n = Json.object();
        n.put("op", op);
        n.put("channel", channel);
        return n;
    }
}
