package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.TetherServer;
import dev.tether.server.config.TetherConfig;
import dev.tether.testkit.WsTestClient;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;

/** Starts real servers on 127.0.0.1:0 and real WebSocket clients against them; closes all at the end. */
final class Harness implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(10);
    private final List<AutoCloseable> open = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong(1000);

    TetherServer server(UnaryOperator<TetherConfig.Builder> tweak) throws Exception {
        TetherServer s = TetherServer.start(tweak.apply(TetherConfig.builder().host("127.0.0.1").port(0).shutdownDrain(Duration.ofMillis(200))).build());
        open.add(() -> s.shutdown().join());
        return s;
    }

    TetherServer server() throws Exception {
        return server(b -> b);
    }

    WsTestClient raw(TetherServer s) {
        return raw(URI.create(s.wsUrl()));
    }

    WsTestClient raw(URI uri) {
        WsTestClient c = WsTestClient.connect(uri);
        open.add(c::abort);
        return c;
    }

    WsTestClient raw(URI uri, WsTestClient.Options options) {
        WsTestClient c = WsTestClient.connect(uri, options);
        open.add(c::abort);
        return c;
    }

    /** A client that sent {@code connect} and got its result; returns the client. */
    WsTestClient connected(TetherServer s) {
        WsTestClient c = raw(s);
        connect(c, null);
        return c;
    }

    JsonNode connect(WsTestClient c, String session) {
        JsonNode r = c.request("{\"id\":" + id() + ",\"op\":\"connect\",\"name\":\"test\""
                + (session == null ? "" : ",\"session\":\"" + session + "\"") + "}", WAIT);
        assertThat(r.has("result")).as("connect reply %s", r).isTrue();
        return r.get("result");
    }

    long id() {
        return ids.incrementAndGet();
    }

    JsonNode call(WsTestClient c, String op, String fields) {
        return c.request("{\"id\":" + id() + ",\"op\":\"" + op + "\"" + (fields.isEmpty() ? "" : "," + fields) + "}", WAIT);
    }

    JsonNode ok(WsTestClient c, String op, String fields) {
        JsonNode r = call(c, op, fields);
        assertThat(r.has("result")).as("%s reply %s", op, r).isTrue();
        return r.get("result");
    }

    JsonNode error(WsTestClient c, String op, String fields) {
        JsonNode r = call(c, op, fields);
        assertThat(r.has("error")).as("%s reply %s", op, r).isTrue();
        return r.get("error");
    }

    JsonNode nextPub(WsTestClient c) {
        JsonNode m = c.await(n -> "pub".equals(n.path("op").asText()), WAIT);
        assertThat(m).as("a pub push").isNotNull();
        return m;
    }

    /** Sends a cumulative {@code ack} notice (no reply). */
    void ack(WsTestClient c, String channel, long offset) {
        c.send("{\"op\":\"ack\",\"channel\":\"" + channel + "\",\"offset\":" + offset + "}");
    }

    /**
     * Waits until everything {@code c} sent so far has been handled: the server handles a
     * connection's messages in order, so once a later command is answered, earlier notices
     * (acks, pongs) have been processed.
     */
    void barrier(WsTestClient c) {
        ok(c, "presence", "\"channel\":\"barrier\"");
    }

    /** Detached sessions awaiting resume, as the server's {@code tether_sessions_detached} gauge reports them. */
    static int detachedSessions(TetherServer s) {
        return (int) s.hub().metrics().registry().get("tether_sessions_detached").gauge().value();
    }

    /** Waits until the server has noticed dropped connections and stored exactly {@code n} sessions for resume. */
    static void awaitDetached(TetherServer s, int n) {
        Awaitility.await("detached sessions == " + n).atMost(WAIT).until(() -> detachedSessions(s) == n);
    }

    @Override
    public void close() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // best effort: the next resource still gets closed
            }
        }
    }
}
