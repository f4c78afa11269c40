package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsTestClient;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** PROTOCOL.md sections 1-7 and 9-11 over real sockets. */
@ExtendWith(NoLeaks.class)
class ProtocolIT {
    private Harness h;
    private TetherServer server;

    @BeforeEach
    void start() throws Exception {
        h = new Harness();
        server = h.server();
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void connectReturnsIdsTimingsAndSelectsTheSubprotocol() {
        WsTestClient c = WsTestClient.connect(URI.create(server.wsUrl()), new DefaultHttpHeaders(), "tether.v1.json");
        try {
            assertThat(c.selectedSubprotocol()).isEqualTo("tether.v1.json");
            JsonNode r = h.connect(c, null);
            assertThat(r.get("client").asText()).startsWith("c-");
            assertThat(r.get("session").asText()).startsWith("s-");
            assertThat(r.get("resumed").asBoolean()).isFalse();
            assertThat(r.get("ping").asLong()).isEqualTo(25000);
            assertThat(r.get("pong").asLong()).isEqualTo(10000);
            assertThat(r.get("window").asInt()).isEqualTo(1024);
            assertThat(r.get("node").asText()).isEqualTo("n1");
            assertThat(r.get("version").asText()).isEqualTo("1.0.0");
        } finally {
            c.abort();
        }
    }

    @Test
    void publicationsGetConsecutiveOffsetsAndReachSubscribersInOrder() {
        WsTestClient sub = h.connected(server);
        WsTestClient pub = h.connected(server);
        JsonNode s = h.ok(sub, "subscribe", "\"channel\":\"chat:lobby\"");
        assertThat(s.get("offset").asLong()).isZero();
        String epoch = s.get("epoch").asText();
        for (int i = 1; i <= 3; i++) {
            JsonNode r = h.ok(pub, "publish", "\"channel\":\"chat:lobby\",\"data\":{\"n\":" + i + "}");
            assertThat(r.get("offset").asLong()).isEqualTo(i);
            assertThat(r.get("epoch").asText()).isEqualTo(epoch);
            assertThat(r.get("duplicate").asBoolean()).isFalse();
        }
        for (int i = 1; i <= 3; i++) {
            JsonNode p = h.nextPub(sub);
            assertThat(p.get("channel").asText()).isEqualTo("chat:lobby");
            assertThat(p.get("offset").asLong()).isEqualTo(i);
            assertThat(p.get("data").get("n").asInt()).isEqualTo(i);
            assertThat(p.get("from").get("client").asText()).startsWith("c-");
            assertThat(p.get("ts").asLong()).isPositive();
        }
    }

    /**
     * The data a subscriber, history and the HTTP API return is the publisher's JSON byte for byte,
     * less whitespace between tokens: numbers and escapes keep their spelling, a pretty-printed
     * HTTP body arrives as one compact line.
     */
    @Test
    void dataArrivesAsPublishedWithoutWhitespaceOverWebSocketHistoryAndHttp() {
        WsTestClient sub = h.connected(server);
        WsTestClient pub = h.connected(server);
        h.ok(sub, "subscribe", "\"channel\":\"spell\"");
        h.ok(pub, "publish", "\"channel\":\"spell\",\"data\": { \"p\" : 1.50, \"e\":1e2,\t\"s\":\"\\u00e9 x\\/\" }");
        String compact = "{\"p\":1.50,\"e\":1e2,\"s\":\"\\u00e9 x\\/\"}";
        HttpResponse<String> posted = RawHttp.post(server, "/api/publish",
                "{\n  \"channel\": \"spell\",\n  \"data\": {\n    \"n\": [1, 2.0],\r\n    \"t\": \"a  b\"\n  }\n}\n");
        assertThat(posted.statusCode()).isEqualTo(200);
        h.nextPub(sub);
        h.nextPub(sub);
        List<String> pushes = sub.all().stream().filter(m -> m.contains("\"op\":\"pub\"")).toList();
        assertThat(pushes).hasSize(2);
        assertThat(pushes.get(0)).contains(",\"data\":" + compact + ",\"from\":");
        assertThat(pushes.get(1)).contains(",\"data\":{\"n\":[1,2.0],\"t\":\"a  b\"},\"ts\":");

        h.ok(pub, "history", "\"channel\":\"spell\"");
        String reply = pub.all().stream().filter(m -> m.contains("\"publications\"")).findFirst().orElseThrow();
        assertThat(reply).contains("{\"offset\":1,\"data\":" + compact + ",\"from\":{\"user\":\"\",\"client\":\"");
        assertThat(reply).contains("{\"offset\":2,\"data\":{\"n\":[1,2.0],\"t\":\"a  b\"},\"ts\":");
        assertThat(RawHttp.get(server, "/api/history?channel=spell").body()).contains("\"data\":" + compact + ",");
    }

    @Test
    void publisherReceivesItsOwnPublicationWhenSubscribed() {
        WsTestClient c = h.connected(server);
        h.ok(c, "subscribe", "\"channel\":\"self\"");
        h.ok(c, "publish", "\"channel\":\"self\",\"data\":\"me\"");
        assertThat(h.nextPub(c).get("data").asText()).isEqualTo("me");
    }

    @Test
    void publishWithAKeySeenBeforeIsNotPublishedAgain() {
        WsTestClient c = h.connected(server);
        JsonNode first = h.ok(c, "publish", "\"channel\":\"k\",\"data\":1,\"key\":\"k-1\"");
        JsonNode again = h.ok(c, "publish", "\"channel\":\"k\",\"data\":1,\"key\":\"k-1\"");
        assertThat(again.get("duplicate").asBoolean()).isTrue();
        assertThat(again.get("offset").asLong()).isEqualTo(first.get("offset").asLong());
        JsonNode hist = h.ok(c, "history", "\"channel\":\"k\"");
        assertThat(hist.get("publications")).hasSize(1);
    }

    @Test
    void subscribeWithSinceReplaysWhatWasMissedThenGoesLive() {
        WsTestClient pub = h.connected(server);
        String epoch = null;
        for (int i = 1; i <= 5; i++) {
            epoch = h.ok(pub, "publish", "\"channel\":\"r\",\"data\":" + i).get("epoch").asText();
        }
        WsTestClient sub = h.connected(server);
        JsonNode r = h.ok(sub, "subscribe", "\"channel\":\"r\",\"since\":{\"offset\":2,\"epoch\":\"" + epoch + "\"}");
        assertThat(r.get("recovered").asBoolean()).isTrue();
        assertThat(r.get("offset").asLong()).isEqualTo(5);
        h.ok(pub, "publish", "\"channel\":\"r\",\"data\":6");
        List<Long> got = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            got.add(h.nextPub(sub).get("offset").asLong());
        }
        assertThat(got).containsExactly(3L, 4L, 5L, 6L);
    }

    @Test
    void subscribeWithAnotherEpochReportsAnEpochGapAndStartsLive() {
        WsTestClient pub = h.connected(server);
        h.ok(pub, "publish", "\"channel\":\"e\",\"data\":1");
        WsTestClient sub = h.connected(server);
        JsonNode r = h.ok(sub, "subscribe", "\"channel\":\"e\",\"since\":{\"offset\":1,\"epoch\":\"e-old\"}");
        assertThat(r.get("recovered").asBoolean()).isFalse();
        assertThat(r.get("gap").get("reason").asText()).isEqualTo("epoch");
        h.ok(pub, "publish", "\"channel\":\"e\",\"data\":2");
        assertThat(h.nextPub(sub).get("offset").asLong()).isEqualTo(2);
    }

    @Test
    void historyWithoutSinceReturnsTheLatestInAscendingOrder() {
        WsTestClient c = h.connected(server);
        for (int i = 1; i <= 5; i++) {
            h.ok(c, "publish", "\"channel\":\"hist\",\"data\":" + i);
        }
        JsonNode r = h.ok(c, "history", "\"channel\":\"hist\",\"limit\":3");
        assertThat(r.get("offset").asLong()).isEqualTo(5);
        List<Long> offsets = new ArrayList<>();
        r.get("publications").forEach(p -> offsets.add(p.get("offset").asLong()));
        assertThat(offsets).containsExactly(3L, 4L, 5L);
        assertThat(r.get("publications").get(0).get("data").asInt()).isEqualTo(3);
        String epoch = r.get("epoch").asText();
        JsonNode since = h.ok(c, "history", "\"channel\":\"hist\",\"since\":{\"offset\":3,\"epoch\":\"" + epoch + "\"}");
        assertThat(since.get("publications")).hasSize(2);
    }

    @Test
    void presenceListsSubscribersAndPushesJoinAndLeave() {
        WsTestClient a = h.connected(server);
        h.ok(a, "subscribe", "\"channel\":\"room\",\"presence\":true");
        WsTestClient b = h.raw(server);
        String bClient = h.connect(b, null).get("client").asText();
        h.ok(b, "subscribe", "\"channel\":\"room\"");
        JsonNode join = a.await(m -> "join".equals(m.path("op").asText()) && bClient.equals(m.path("client").asText()), Harness.WAIT);
        assertThat(join.get("channel").asText()).isEqualTo("room");
        JsonNode list = h.ok(a, "presence", "\"channel\":\"room\"");
        assertThat(list.get("clients")).hasSize(2);
        h.ok(b, "unsubscribe", "\"channel\":\"room\"");
        JsonNode leave = a.await(m -> "leave".equals(m.path("op").asText()), Harness.WAIT);
        assertThat(leave.get("client").asText()).isEqualTo(bClient);
    }

    @Test
    void doubleSubscribeAndUnknownUnsubscribeAreRefused() {
        WsTestClient c = h.connected(server);
        h.ok(c, "subscribe", "\"channel\":\"x\"");
        assertThat(h.error(c, "subscribe", "\"channel\":\"x\"").get("code").asInt()).isEqualTo(110);
        assertThat(h.error(c, "unsubscribe", "\"channel\":\"y\"").get("code").asInt()).isEqualTo(111);
        JsonNode unsub = h.ok(c, "unsubscribe", "\"channel\":\"x\"");
        assertThat(unsub.isEmpty()).isTrue();
    }

    @Test
    void commandsBeforeConnectGet104AndASecondConnectGets105() {
        WsTestClient c = h.raw(server);
        JsonNode e = h.error(c, "subscribe", "\"channel\":\"x\"");
        assertThat(e.get("code").asInt()).isEqualTo(104);
        assertThat(e.get("temporary").asBoolean()).isFalse();
        h.connect(c, null);
        assertThat(h.error(c, "connect", "").get("code").asInt()).isEqualTo(105);
    }

    @Test
    void badFieldsGet101UnknownOpsGet102TooLargeGets108() {
        WsTestClient c = h.connected(server);
        assertThat(h.error(c, "subscribe", "\"channel\":\"bad channel!\"").get("message").asText()).contains("channel");
        assertThat(h.error(c, "subscribe", "\"channel\":42").get("message").asText()).contains("must be a string");
        assertThat(h.error(c, "publish", "\"channel\":\"x\"").get("message").asText()).contains("'data' is missing");
        assertThat(h.error(c, "history", "\"channel\":\"x\",\"limit\":0").get("code").asInt()).isEqualTo(101);
        assertThat(h.error(c, "subscribe", "\"channel\":\"x\",\"since\":{\"offset\":-1,\"epoch\":\"e\"}").get("code").asInt())
                .isEqualTo(101);
        assertThat(h.error(c, "teleport", "").get("code").asInt()).isEqualTo(102);
        assertThat(h.ok(c, "publish", "\"channel\":\"x\",\"data\":1").get("offset").asLong()).isEqualTo(1);
    }

    @Test
    void publicationLargerThanMaxPublicationBytesGets108() throws Exception {
        TetherServer small = h.server(b -> b.maxPublicationBytes(1000));
        WsTestClient c = h.connected(small);
        String big = "\"" + "x".repeat(1000) + "\"";
        JsonNode e = h.error(c, "publish", "\"channel\":\"x\",\"data\":" + big);
        assertThat(e.get("code").asInt()).isEqualTo(108);
        assertThat(e.get("message").asText()).contains("1002 bytes, more than 1000");
        assertThat(h.ok(c, "publish", "\"channel\":\"x\",\"data\":\"" + "x".repeat(990) + "\"").get("offset").asLong()).isEqualTo(1);
    }

    @Test
    void personalChannelIsOnlyForItsUser() {
        WsTestClient c = h.connected(server);
        JsonNode e = h.error(c, "subscribe", "\"channel\":\"#alice\"");
        assertThat(e.get("code").asInt()).isEqualTo(103);
    }

    @Test
    void severalCommandsInOneFrameAreAllAnsweredAndRepliesMayShareAFrame() {
        WsTestClient c = h.connected(server);
        int framesBefore = c.framesReceived();
        c.send("{\"id\":1,\"op\":\"publish\",\"channel\":\"b\",\"data\":1}\n"
                + "{\"id\":2,\"op\":\"publish\",\"channel\":\"b\",\"data\":2}\n"
                + "{\"id\":3,\"op\":\"history\",\"channel\":\"b\"}");
        JsonNode third = c.await(m -> m.path("id").asInt() == 3, Harness.WAIT);
        assertThat(third.get("result").get("publications")).hasSize(2);
        assertThat(c.all().stream().filter(s -> s.startsWith("{\"id\":1,") || s.startsWith("{\"id\":2,"))).hasSize(2);
        assertThat(c.framesReceived() - framesBefore).isEqualTo(1);
    }

    @Test
    void catchUpDeliversSeveralPublicationsPerFrame() {
        WsTestClient pub = h.connected(server);
        String epoch = null;
        for (int i = 1; i <= 50; i++) {
            epoch = h.ok(pub, "publish", "\"channel\":\"burst\",\"data\":" + i).get("epoch").asText();
        }
        WsTestClient sub = h.connected(server);
        int before = sub.framesReceived();
        h.ok(sub, "subscribe", "\"channel\":\"burst\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}");
        long last = 0;
        for (int i = 0; i < 50; i++) {
            last = h.nextPub(sub).get("offset").asLong();
        }
        assertThat(last).isEqualTo(50);
        assertThat(sub.framesReceived() - before).isLessThan(10);
    }
}
