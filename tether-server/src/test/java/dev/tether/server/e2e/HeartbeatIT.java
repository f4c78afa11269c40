package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsTestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Liveness (PROTOCOL.md section 8) with a fast heartbeat: ping every 200 ms, pong within 300 ms. */
@ExtendWith(NoLeaks.class)
class HeartbeatIT {
    private static final Duration PING = Duration.ofMillis(200);
    private static final Duration PONG = Duration.ofMillis(300);
    private static final Duration CONNECT_TIMEOUT = Duration.ofMillis(300);
    private static final Duration UPPER = Duration.ofSeconds(5);
    private static final Predicate<JsonNode> IS_PING = m -> "ping".equals(m.path("op").asText());
    private static final Predicate<JsonNode> IS_DISCONNECT = m -> "disconnect".equals(m.path("op").asText());

    private Harness h;
    private TetherServer server;

    @BeforeEach
    void start() throws Exception {
        h = new Harness();
        server = h.server(b -> b.pingInterval(PING).pongTimeout(PONG).connectTimeout(CONNECT_TIMEOUT));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void connectedClientIsPingedAndToldTheTimingsInTheConnectReply() {
        WsTestClient c = h.raw(server);
        JsonNode r = h.connect(c, null);
        assertThat(r.get("ping").asLong()).isEqualTo(200);
        assertThat(r.get("pong").asLong()).isEqualTo(300);
        c.await(IS_PING, UPPER);
        assertThat(c.all()).contains("{\"op\":\"ping\"}");
    }

    @Test
    void clientThatAnswersEveryPingStaysConnectedAcrossSeveralPingIntervals() {
        WsTestClient c = h.connected(server);
        long start = System.nanoTime();
        for (int i = 0; i < 6; i++) {
            c.await(IS_PING, UPPER);
            c.send("{\"op\":\"pong\"}");
        }
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(elapsed).as("six pings take at least five intervals").isGreaterThanOrEqualTo(5 * PING.toMillis() - 50);
        assertThat(elapsed).as("well past ping + pong").isGreaterThan(PING.plus(PONG).toMillis());
        // Still usable, and never told to go.
        assertThat(h.ok(c, "publish", "\"channel\":\"alive\",\"data\":1").get("offset").asLong()).isEqualTo(1);
        assertThat(c.isOpen()).isTrue();
        assertThat(c.closeCode()).isNotDone();
        assertThat(c.all()).noneMatch(m -> m.contains("\"disconnect\""));
    }

    @Test
    void unansweredPingClosesWith4001() throws Exception {
        WsTestClient c = h.raw(server);
        h.connect(c, null);
        long connected = System.nanoTime();
        c.await(IS_PING, UPPER);
        // Other traffic does not count as a pong.
        h.ok(c, "history", "\"channel\":\"x\"");
        JsonNode bye = c.await(IS_DISCONNECT, UPPER);
        long afterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connected);
        assertThat(bye.get("code").asInt()).isEqualTo(4001);
        assertThat(bye.get("reconnect").asBoolean()).isTrue();
        assertThat(afterMillis).as("not before ping + pong").isGreaterThanOrEqualTo(PING.plus(PONG).toMillis() - 50);
        assertThat(c.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(4001);
        await().atMost(UPPER).until(() -> !c.isOpen());
    }

    @Test
    void clientThatNeverSendsConnectIsClosedWith4004() throws Exception {
        WsTestClient c = h.raw(server);
        long opened = System.nanoTime();
        JsonNode bye = c.await(IS_DISCONNECT, UPPER);
        long afterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened);
        assertThat(bye.get("code").asInt()).isEqualTo(4004);
        assertThat(bye.get("reconnect").asBoolean()).isTrue();
        assertThat(afterMillis).as("not before the connect timeout").isGreaterThanOrEqualTo(CONNECT_TIMEOUT.toMillis() - 50);
        assertThat(c.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(4004);
        assertThat(c.all()).noneMatch(m -> m.contains("\"op\":\"ping\""));
    }

    @Test
    void clientThatConnectsInTimeIsNotClosedWith4004() {
        WsTestClient c = h.connected(server);
        // Answer pings for longer than the connect timeout: the connect timer must have been cancelled.
        for (int i = 0; i < 3; i++) {
            c.await(IS_PING, UPPER);
            c.send("{\"op\":\"pong\"}");
        }
        h.barrier(c);
        assertThat(c.isOpen()).isTrue();
        assertThat(c.all()).noneMatch(m -> m.contains("\"disconnect\""));
    }

    @Test
    void protocolPingFrameIsAnsweredWithAPongFrame() {
        WsTestClient c = h.connected(server);
        assertThat(c.pongsReceived()).isZero();
        c.sendPing();
        await().atMost(UPPER).until(() -> c.pongsReceived() == 1);
        c.sendPing();
        c.sendPing();
        await().atMost(UPPER).until(() -> c.pongsReceived() == 3);
        assertThat(c.isOpen()).isTrue();
    }

    /**
     * Each event loop sweeps all its connections' deadlines in one pass: connections that leave,
     * stay silent or answer (with the exact pong bytes or with a pong that needs parsing) must each
     * get their own outcome, whatever their neighbours in the sweep do.
     */
    @Test
    void manyConnectionsInOneSweepEachGetTheirOwnOutcome() throws Exception {
        List<WsTestClient> answering = new ArrayList<>();
        List<WsTestClient> silent = new ArrayList<>();
        List<WsTestClient> leaving = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            answering.add(h.connected(server));
            silent.add(h.connected(server));
            leaving.add(h.connected(server));
        }
        leaving.forEach(WsTestClient::abort);
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < answering.size(); i++) {
                WsTestClient c = answering.get(i);
                c.await(IS_PING, UPPER);
                c.send(i % 2 == 0 ? "{\"op\":\"pong\"}" : "{ \"op\" : \"pong\" }");
            }
        }
        for (WsTestClient c : silent) {
            assertThat(c.await(IS_DISCONNECT, UPPER).get("code").asInt()).isEqualTo(4001);
            assertThat(c.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(4001);
        }
        for (WsTestClient c : answering) {
            h.barrier(c);
            assertThat(c.isOpen()).as("%s answered every ping", c).isTrue();
            assertThat(c.all()).noneMatch(m -> m.contains("\"disconnect\""));
        }
        await().atMost(UPPER).until(() -> server.hub().connectionCount() == answering.size());
    }
}
