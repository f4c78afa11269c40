package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.TetherServer;
import dev.tether.server.protocol.Json;
import dev.tether.testkit.WsTestClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code GET /api/stats} for the admin page, and the idle limit on plain HTTP connections. */
class StatsAndLimitsIT {
    private Harness h;

    @BeforeEach
    void start() {
        h = new Harness();
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void statsReportCountsChannelsCountersAndDisconnectsByCode() throws Exception {
        TetherServer server = h.server();
        WsTestClient a = h.connected(server);
        h.ok(a, "subscribe", "\"channel\":\"stats:room\"");
        h.ok(a, "publish", "\"channel\":\"stats:room\",\"data\":1");
        h.nextPub(a);
        WsTestClient bad = h.connected(server);
        bad.send("not json");
        bad.closeCode().get(5, java.util.concurrent.TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(Harness.WAIT).until(() -> server.hub().connectionCount() == 1);

        JsonNode stats = Json.MAPPER.readTree(RawHttp.get(server, "/api/stats").body());
        assertThat(stats.get("node").asText()).isEqualTo("n1");
        assertThat(stats.get("uptimeMs").asLong()).isNotNegative();
        assertThat(stats.get("connections").asInt()).isEqualTo(1);
        assertThat(stats.get("subscriptions").asInt()).isEqualTo(1);
        assertThat(stats.get("channels").get(0).get("channel").asText()).isEqualTo("stats:room");
        assertThat(stats.get("channels").get(0).get("subscribers").asInt()).isEqualTo(1);
        assertThat(stats.get("channels").get(0).get("offset").asLong()).isEqualTo(1);
        assertThat(stats.get("counters").get("publications").asLong()).isEqualTo(1);
        assertThat(stats.get("counters").get("deliveries").asLong()).isEqualTo(1);
        assertThat(stats.get("counters").get("bytesOut").asLong()).isPositive();
        assertThat(stats.get("disconnects").get("4500").asLong()).isEqualTo(1);
    }

    @Test
    void statsNeedTheApiKeyWhenOneIsConfigured() throws Exception {
        TetherServer server = h.server(b -> b.apiKey("k3y"));
        assertThat(RawHttp.get(server, "/api/stats").statusCode()).isEqualTo(401);
        assertThat(RawHttp.get(server, "/api/stats", "Authorization", "Bearer k3y").statusCode()).isEqualTo(200);
    }

    @Test
    void httpConnectionThatStaysSilentIsClosedAfterTheIdleTimeout() throws Exception {
        TetherServer server = h.server(b -> b.httpIdleTimeout(Duration.ofMillis(300)));
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            long start = System.nanoTime();
            assertThat(in.read()).as("server closes the half-sent request").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(9));
        }
    }

    /**
     * A client that trickles its request (a byte every 100 ms, never idle for the 300 ms timeout)
     * is closed once the request has taken longer than the timeout, not kept for ever.
     */
    @Test
    void httpConnectionThatTricklesItsRequestIsClosedAfterTheTimeout() throws Exception {
        TetherServer server = h.server(b -> b.httpIdleTimeout(Duration.ofMillis(300)));
        var trickle = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            byte[] request = ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + "p".repeat(200) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            int[] sent = {0};
            trickle.scheduleAtFixedRate(() -> {
                try {
                    if (sent[0] < request.length) {
                        out.write(request[sent[0]++]);
                        out.flush();
                    }
                } catch (java.io.IOException closed) {
                    throw new java.io.UncheckedIOException(closed); // stops the task: the server closed
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            InputStream in = s.getInputStream();
            assertThat(in.read()).as("server closes the trickled request").isEqualTo(-1);
            assertThat(sent[0]).as("closed long before the request was complete").isLessThan(request.length);
        } finally {
            trickle.shutdownNow();
        }
    }

    @Test
    void webSocketOutlivesTheHttpIdleTimeout() throws Exception {
        TetherServer server = h.server(b -> b.httpIdleTimeout(Duration.ofMillis(200)).pingInterval(Duration.ofMillis(100)));
        WsTestClient c = h.connected(server);
        // Three pings answered: well past the HTTP idle limit, the WebSocket is still open.
        for (int i = 0; i < 3; i++) {
            c.await(m -> "ping".equals(m.path("op").asText()), Harness.WAIT);
            c.send("{\"op\":\"pong\"}");
        }
        assertThat(h.ok(c, "publish", "\"channel\":\"alive\",\"data\":1").get("offset").asLong()).isEqualTo(1);
    }

    @Test
    void ioThreadsSetsTheEventLoopsAndZeroLeavesNettysDefault() throws Exception {
        assertThat(h.server().ioThreads()).isEqualTo(2 * io.netty.util.NettyRuntime.availableProcessors());
        TetherServer one = h.server(b -> b.ioThreads(1));
        assertThat(one.ioThreads()).isEqualTo(1);
        // Every connection on the one loop: a publication still reaches every subscriber.
        WsTestClient pub = h.connected(one);
        WsTestClient a = h.connected(one);
        WsTestClient b = h.connected(one);
        h.ok(a, "subscribe", "\"channel\":\"one-loop\"");
        h.ok(b, "subscribe", "\"channel\":\"one-loop\"");
        h.ok(pub, "publish", "\"channel\":\"one-loop\",\"data\":7");
        assertThat(h.nextPub(a).get("data").asInt()).isEqualTo(7);
        assertThat(h.nextPub(b).get("data").asInt()).isEqualTo(7);
    }
}
