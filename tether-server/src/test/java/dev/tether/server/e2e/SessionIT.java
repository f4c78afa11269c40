package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.server.protocol.CloseCode;
import dev.tether.testkit.WsTestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Sessions, resume, acks, flow control and presence across drops (PROTOCOL.md sections 3, 5, 7 and 9). */
@ExtendWith(NoLeaks.class)
class SessionIT {
    private static final ObjectMapper JSON = new ObjectMapper();
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
    void droppedClientResumesItsSubscriptionsAndGetsWhatItMissedFromItsLastAck() throws Exception {
        TetherServer server = h.server();
        WsTestClient a = h.raw(server);
        JsonNode first = h.connect(a, null);
        String session = first.get("session").asText();
        String client = first.get("client").asText();
        String ackedEpoch = h.ok(a, "subscribe", "\"channel\":\"acked\"").get("epoch").asText();
        String unackedEpoch = h.ok(a, "subscribe", "\"channel\":\"unacked\"").get("epoch").asText();
        WsTestClient p = h.connected(server);
        publish(p, "acked", 1, 3);
        publish(p, "unacked", 1, 2);
        Map<String, List<Long>> before = pubsUntil(a, got -> got.get("acked").size() == 3 && got.get("unacked").size() == 2);
        assertThat(before.get("acked")).containsExactly(1L, 2L, 3L);
        // Received 3 but handed only 2 to the application: the resume must replay 3.
        h.ack(a, "acked", 2);
        h.barrier(a);

        a.abort();
        Harness.awaitDetached(server, 1);
        publish(p, "acked", 4, 5);
        publish(p, "unacked", 3, 4);

        WsTestClient back = h.raw(server);
        JsonNode r = h.connect(back, session);
        assertThat(r.get("resumed").asBoolean()).as("resume reply %s", r).isTrue();
        assertThat(r.get("session").asText()).isEqualTo(session);
        assertThat(r.get("client").asText()).isEqualTo(client);
        Map<String, JsonNode> subs = byChannel(r.get("subscriptions"));
        assertThat(subs).containsOnlyKeys("acked", "unacked");
        assertPosition(subs.get("acked"), 5, ackedEpoch);
        assertPosition(subs.get("unacked"), 4, unackedEpoch);

        // Live publications after the resume come after the replay, with no duplicate and no gap.
        publish(p, "acked", 6, 6);
        publish(p, "unacked", 5, 5);
        Map<String, List<Long>> after = pubsUntil(back,
                got -> got.get("acked").contains(6L) && got.get("unacked").contains(5L));
        assertThat(after.get("acked")).containsExactly(3L, 4L, 5L, 6L);
        assertThat(after.get("unacked")).containsExactly(3L, 4L, 5L);
        assertThat(back.all()).noneMatch(m -> m.contains("\"op\":\"subscribe\""));
    }

    /**
     * Protocol E: an ack in the same frame as the subscribe counts before anything the server writes.
     * The client below never acks again and drops having read nothing: the resume replays every
     * publication of the early-acked subscription, and none of the one subscribed without it
     * (whose written publications the server assumed delivered).
     */
    @Test
    void anAckInTheSubscribeFrameMakesAResumeReplayWhatWasWrittenBeforeAnyOtherAck() throws Exception {
        TetherServer server = h.server();
        WsTestClient p = h.connected(server);
        publish(p, "early", 1, 4);
        publish(p, "late", 1, 4);
        String epoch = h.ok(p, "history", "\"channel\":\"early\",\"limit\":1").get("epoch").asText();
        String lateEpoch = h.ok(p, "history", "\"channel\":\"late\",\"limit\":1").get("epoch").asText();

        WsTestClient a = h.raw(server);
        String session = h.connect(a, null).get("session").asText();
        a.send("{\"id\":" + h.id() + ",\"op\":\"subscribe\",\"channel\":\"early\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch
                + "\"}}\n{\"op\":\"ack\",\"channel\":\"early\",\"offset\":0}");
        a.send("{\"id\":" + h.id() + ",\"op\":\"subscribe\",\"channel\":\"late\",\"since\":{\"offset\":0,\"epoch\":\"" + lateEpoch
                + "\"}}");
        Map<String, List<Long>> written = pubsUntil(a, got -> got.get("early").size() == 4 && got.get("late").size() == 4);
        assertThat(written.get("early")).containsExactly(1L, 2L, 3L, 4L);
        h.barrier(a);
        a.abort();
        Harness.awaitDetached(server, 1);

        WsTestClient back = h.raw(server);
        assertThat(h.connect(back, session).get("resumed").asBoolean()).isTrue();
        publish(p, "early", 5, 5);
        publish(p, "late", 5, 5);
        Map<String, List<Long>> after = pubsUntil(back, got -> got.get("early").contains(5L) && got.get("late").contains(5L));
        assertThat(after.get("early")).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(after.get("late")).containsExactly(5L);
    }

    /**
     * Protocol D: a connect naming another user's session gets a fresh session, and the session
     * stays its owner's: a live owner is not closed with 4502, a detached one can still be resumed.
     */
    @Test
    void anotherUsersConnectNamingASessionGetsAFreshOneAndLeavesTheOwnersAlone() throws Exception {
        String secret = "session-it-secret-of-enough-length-0123456789";
        TetherServer server = h.server(b -> b.tokenSecret(secret).allowAnonymous(false));
        var tokens = new dev.tether.server.auth.TokenVerifier(secret, java.time.Clock.systemUTC());
        String aliceToken = tokens.issue("{\"sub\":\"alice\"}");
        String bobToken = tokens.issue("{\"sub\":\"bob\"}");

        WsTestClient alice = h.raw(server);
        String session = connectAs(alice, aliceToken, null).get("session").asText();
        h.ok(alice, "subscribe", "\"channel\":\"room\"");

        JsonNode live = connectAs(h.raw(server), bobToken, session);
        assertThat(live.get("resumed").asBoolean()).isFalse();
        assertThat(live.get("session").asText()).isNotEqualTo(session);
        h.barrier(alice);
        assertThat(alice.isOpen()).as("the owner is not taken over").isTrue();

        alice.abort();
        Harness.awaitDetached(server, 1);
        assertThat(connectAs(h.raw(server), bobToken, session).get("resumed").asBoolean()).isFalse();
        JsonNode back = connectAs(h.raw(server), aliceToken, session);
        assertThat(back.get("resumed").asBoolean()).as("the owner resumes after another user named it: %s", back).isTrue();
        assertThat(byChannel(back.get("subscriptions"))).containsOnlyKeys("room");
    }

    private JsonNode connectAs(WsTestClient c, String token, String session) {
        JsonNode r = c.request("{\"id\":" + h.id() + ",\"op\":\"connect\",\"token\":\"" + token + "\""
                + (session == null ? "" : ",\"session\":\"" + session + "\"") + "}", Harness.WAIT);
        assertThat(r.has("result")).as("connect reply %s", r).isTrue();
        return r.get("result");
    }

    @Test
    void unknownSessionGivesAFreshSessionThatIsNotResumed() throws Exception {
        TetherServer server = h.server();
        WsTestClient c = h.raw(server);
        JsonNode r = h.connect(c, "s-no-such-session");
        assertThat(r.get("resumed").asBoolean()).isFalse();
        assertThat(r.get("session").asText()).startsWith("s-").isNotEqualTo("s-no-such-session");
        assertThat(r.path("subscriptions").size()).isZero();
    }

    @Test
    void sessionNamedByASecondLiveConnectionIsTakenOverAndTheOldOneClosedWith4502() throws Exception {
        TetherServer server = h.server();
        WsTestClient old = h.raw(server);
        JsonNode first = h.connect(old, null);
        String session = first.get("session").asText();
        String epoch = h.ok(old, "subscribe", "\"channel\":\"t\"").get("epoch").asText();
        WsTestClient p = h.connected(server);
        publish(p, "t", 1, 1);
        assertThat(h.nextPub(old).get("offset").asLong()).isEqualTo(1);
        h.ack(old, "t", 1);
        h.barrier(old);

        WsTestClient taker = h.raw(server);
        JsonNode r = h.connect(taker, session);
        assertThat(r.get("resumed").asBoolean()).as("takeover reply %s", r).isTrue();
        assertThat(r.get("client").asText()).isEqualTo(first.get("client").asText());
        Map<String, JsonNode> subs = byChannel(r.get("subscriptions"));
        assertThat(subs).containsOnlyKeys("t");
        assertPosition(subs.get("t"), 1, epoch);

        JsonNode bye = old.await(m -> "disconnect".equals(m.path("op").asText()), Harness.WAIT);
        assertThat(bye.get("code").asInt()).isEqualTo(4502);
        assertThat(bye.get("reconnect").asBoolean()).isFalse();
        assertThat(old.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(4502);

        publish(p, "t", 2, 2);
        assertThat(h.nextPub(taker).get("offset").asLong()).as("first pub after takeover").isEqualTo(2);
    }

    @Test
    void presenceShowsNoLeaveAndNoSecondJoinWhenAClientDropsAndResumesWithinTheTtl() throws Exception {
        TetherServer server = h.server(b -> b.sessionTtl(Duration.ofSeconds(5)));
        WsTestClient watcher = h.connected(server);
        h.ok(watcher, "subscribe", "\"channel\":\"room\",\"presence\":true");
        WsTestClient x = h.raw(server);
        JsonNode xr = h.connect(x, null);
        String xClient = xr.get("client").asText();
        h.ok(x, "subscribe", "\"channel\":\"room\"");
        watcher.await(presence("join", xClient), Harness.WAIT);

        x.abort();
        Harness.awaitDetached(server, 1);
        WsTestClient back = h.raw(server);
        assertThat(h.connect(back, xr.get("session").asText()).get("resumed").asBoolean()).isTrue();

        // A later event as a marker: everything about x that the watcher would see has arrived before it.
        WsTestClient y = h.raw(server);
        String yClient = h.connect(y, null).get("client").asText();
        h.ok(y, "subscribe", "\"channel\":\"room\"");
        watcher.await(presence("join", yClient), Harness.WAIT);

        List<JsonNode> seen = parsed(watcher.all());
        assertThat(seen).noneMatch(presence("leave", xClient));
        assertThat(seen.stream().filter(presence("join", xClient))).hasSize(1);
        JsonNode list = h.ok(watcher, "presence", "\"channel\":\"room\"");
        assertThat(list.get("clients").findValuesAsText("client")).contains(xClient, yClient);
    }

    /**
     * A session the server ended (4500 for a protocol violation) cannot be resumed while the old
     * connection still waits, in its close grace, for the client's close frame.
     */
    @Test
    void aSessionEndedByTheServerCannotBeResumedDuringTheCloseGrace() throws Exception {
        TetherServer server = h.server();
        WsTestClient x = h.raw(server);
        String session = h.connect(x, null).get("session").asText();
        x.pauseReading(); // never answers the server's close frame: the server waits out its grace
        x.send("not json");
        await().atMost(Harness.WAIT).until(() -> server.hub().metrics().disconnectCount(CloseCode.PROTOCOL_VIOLATION) == 1);
        JsonNode r = h.connect(h.raw(server), session);
        assertThat(r.get("resumed").asBoolean()).as("resume of an ended session: %s", r).isFalse();
    }

    @Test
    void clientThatClosesNormallyLeavesAtOnceAndItsSessionEnds() throws Exception {
        TetherServer server = h.server(); // sessionTtl 120 s: a leave within seconds is not an expiry
        WsTestClient watcher = h.connected(server);
        h.ok(watcher, "subscribe", "\"channel\":\"room\",\"presence\":true");
        WsTestClient x = h.raw(server);
        JsonNode xr = h.connect(x, null);
        String xClient = xr.get("client").asText();
        h.ok(x, "subscribe", "\"channel\":\"room\"");
        watcher.await(presence("join", xClient), Harness.WAIT);

        x.close(1000, "bye");
        assertThat(x.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(1000);
        watcher.await(presence("leave", xClient), Duration.ofSeconds(5));

        WsTestClient again = h.raw(server);
        JsonNode r = h.connect(again, xr.get("session").asText());
        assertThat(r.get("resumed").asBoolean()).as("resume after a normal close: %s", r).isFalse();
        assertThat(r.get("client").asText()).isNotEqualTo(xClient);
    }

    @Test
    void clientThatDropsAndNeverReturnsLeavesWhenItsSessionExpiresAndCannotResumeAfterwards() throws Exception {
        TetherServer server = h.server(b -> b.sessionTtl(Duration.ofMillis(500)));
        WsTestClient watcher = h.connected(server);
        h.ok(watcher, "subscribe", "\"channel\":\"room\",\"presence\":true");
        WsTestClient x = h.raw(server);
        JsonNode xr = h.connect(x, null);
        String xClient = xr.get("client").asText();
        h.ok(x, "subscribe", "\"channel\":\"room\"");
        watcher.await(presence("join", xClient), Harness.WAIT);

        long dropped = System.nanoTime();
        x.abort();
        JsonNode leave = watcher.await(presence("leave", xClient), Harness.WAIT);
        long afterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - dropped);
        assertThat(leave.get("channel").asText()).isEqualTo("room");
        assertThat(afterMillis).as("leave only once the 500 ms session ttl ran out").isGreaterThanOrEqualTo(450);

        WsTestClient late = h.raw(server);
        JsonNode r = h.connect(late, xr.get("session").asText());
        assertThat(r.get("resumed").asBoolean()).as("resume after expiry: %s", r).isFalse();
        assertThat(r.get("session").asText()).isNotEqualTo(xr.get("session").asText());
        assertThat(h.ok(watcher, "presence", "\"channel\":\"room\"").get("clients").findValuesAsText("client"))
                .doesNotContain(xClient);
    }

    @Test
    void beyondMaxDetachedSessionsTheSessionDroppedLongestAgoEndsAsIfItHadExpired() throws Exception {
        TetherServer server = h.server(b -> b.maxDetachedSessions(2));
        WsTestClient watcher = h.connected(server);
        h.ok(watcher, "subscribe", "\"channel\":\"room\",\"presence\":true");
        List<JsonNode> results = new ArrayList<>();
        List<WsTestClient> xs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            WsTestClient x = h.raw(server);
            JsonNode r = h.connect(x, null);
            h.ok(x, "subscribe", "\"channel\":\"room\"");
            watcher.await(presence("join", r.get("client").asText()), Harness.WAIT);
            results.add(r);
            xs.add(x);
        }
        for (int i = 0; i < 3; i++) {
            xs.get(i).abort();
            Harness.awaitDetached(server, Math.min(i + 1, 2));
        }
        // The third drop ended the first session: its leave comes now, not after the 120 s TTL.
        String first = results.get(0).get("client").asText();
        watcher.await(presence("leave", first), Harness.WAIT);
        assertThat(HttpApiIT.samples(RawHttp.get(server, "/metrics").body()).get("tether_sessions_evicted_total"))
                .isEqualTo(1.0);

        JsonNode gone = h.connect(h.raw(server), results.get(0).get("session").asText());
        assertThat(gone.get("resumed").asBoolean()).as("resume of the ended session: %s", gone).isFalse();
        for (int i = 1; i < 3; i++) {
            JsonNode back = h.connect(h.raw(server), results.get(i).get("session").asText());
            assertThat(back.get("resumed").asBoolean()).as("resume %d: %s", i, back).isTrue();
        }
        assertThat(parsed(watcher.all()).stream().filter(presence("leave", results.get(1).get("client").asText())))
                .isEmpty();
    }

    @Test
    void resumeAfterHistoryMovedOnReportsTheExactRetentionGapThenDeliversWhatIsKept() throws Exception {
        TetherServer server = h.server(b -> b.historySize(3));
        WsTestClient a = h.raw(server);
        String session = h.connect(a, null).get("session").asText();
        String epoch = h.ok(a, "subscribe", "\"channel\":\"g\"").get("epoch").asText();
        WsTestClient p = h.connected(server);
        publish(p, "g", 1, 1);
        assertThat(h.nextPub(a).get("offset").asLong()).isEqualTo(1);
        h.ack(a, "g", 1);
        h.barrier(a);

        a.abort();
        Harness.awaitDetached(server, 1);
        publish(p, "g", 2, 11); // history keeps 9, 10, 11

        WsTestClient back = h.raw(server);
        JsonNode r = h.connect(back, session);
        assertThat(r.get("resumed").asBoolean()).isTrue();
        JsonNode sub = byChannel(r.get("subscriptions")).get("g");
        assertThat(sub).as("subscriptions %s", r.get("subscriptions")).isNotNull();
        assertThat(sub.get("offset").asLong()).isEqualTo(11);
        assertThat(sub.get("epoch").asText()).isEqualTo(epoch);
        assertThat(sub.get("recovered").asBoolean()).isFalse();
        JsonNode gap = sub.get("gap");
        assertThat(gap).as("gap in %s", sub).isNotNull();
        assertThat(gap.get("from").asLong()).isEqualTo(2);
        assertThat(gap.get("to").asLong()).isEqualTo(8);
        assertThat(gap.get("reason").asText()).isEqualTo("retention");

        publish(p, "g", 12, 12);
        List<Long> got = pubsUntil(back, m -> m.get("g").contains(12L)).get("g");
        assertThat(got).containsExactly(9L, 10L, 11L, 12L);
    }

    @Test
    void clientThatAcksGetsAtMostWindowUnacknowledgedPublicationsAndMoreAsItAcks() throws Exception {
        TetherServer server = h.server(b -> b.window(4));
        WsTestClient a = h.raw(server);
        assertThat(h.connect(a, null).get("window").asInt()).isEqualTo(4);
        h.ok(a, "subscribe", "\"channel\":\"w\"");
        h.ok(a, "subscribe", "\"channel\":\"mark\"");
        WsTestClient p = h.connected(server);
        publish(p, "w", 1, 1);
        assertThat(h.nextPub(a).get("offset").asLong()).isEqualTo(1);
        h.ack(a, "w", 1);
        h.barrier(a);

        // 8 more; the window lets 2..5 through. A publication on another channel marks the end.
        publish(p, "w", 2, 9);
        publish(p, "mark", 1, 1);
        assertThat(pubsUntil(a, m -> !m.get("mark").isEmpty()).get("w")).containsExactly(2L, 3L, 4L, 5L);

        h.ack(a, "w", 3);
        h.barrier(a);
        publish(p, "mark", 2, 2);
        assertThat(pubsUntil(a, m -> !m.get("mark").isEmpty()).get("w")).containsExactly(6L, 7L);

        h.ack(a, "w", 7);
        h.barrier(a);
        publish(p, "mark", 3, 3);
        assertThat(pubsUntil(a, m -> !m.get("mark").isEmpty()).get("w")).containsExactly(8L, 9L);
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** Publishes {@code {"n":from}} .. {@code {"n":to}} and checks each gets offset n. */
    private void publish(WsTestClient p, String channel, int from, int to) {
        for (int n = from; n <= to; n++) {
            JsonNode r = h.ok(p, "publish", "\"channel\":\"" + channel + "\",\"data\":{\"n\":" + n + "}");
            assertThat(r.get("offset").asLong()).as("offset of publication %d in %s", n, channel).isEqualTo(n);
        }
    }

    /**
     * Takes {@code pub} pushes from {@code c}, grouped by channel in arrival order, until {@code done}
     * holds; checks that each pub's data matches its offset. Fails if it does not hold in time.
     */
    private static Map<String, List<Long>> pubsUntil(WsTestClient c, Predicate<Map<String, List<Long>>> done) {
        Map<String, List<Long>> got = new HashMap<>() {
            @Override
            public List<Long> get(Object key) {
                return computeIfAbsent((String) key, k -> new ArrayList<>());
            }
        };
        while (!done.test(got)) {
            JsonNode m = c.await(n -> "pub".equals(n.path("op").asText()), Harness.WAIT);
            long offset = m.get("offset").asLong();
            String channel = m.get("channel").asText();
            if (m.path("data").has("n")) {
                assertThat(m.get("data").get("n").asLong()).as("data of %s", m).isEqualTo(offset);
            }
            got.get(channel).add(offset);
        }
        return got;
    }

    private static Map<String, JsonNode> byChannel(JsonNode subscriptions) {
        assertThat(subscriptions).as("subscriptions in the resume reply").isNotNull();
        Map<String, JsonNode> out = new HashMap<>();
        subscriptions.forEach(s -> out.put(s.get("channel").asText(), s));
        assertThat(out).as("one entry per channel in %s", subscriptions).hasSize(subscriptions.size());
        return out;
    }

    private static void assertPosition(JsonNode sub, long offset, String epoch) {
        assertThat(sub.get("offset").asLong()).as("offset in %s", sub).isEqualTo(offset);
        assertThat(sub.get("epoch").asText()).as("epoch in %s", sub).isEqualTo(epoch);
        assertThat(sub.get("recovered").asBoolean()).as("recovered in %s", sub).isTrue();
        assertThat(sub.has("gap")).as("gap in %s", sub).isFalse();
    }

    private static Predicate<JsonNode> presence(String op, String client) {
        return m -> op.equals(m.path("op").asText()) && client.equals(m.path("client").asText());
    }

    private static List<JsonNode> parsed(List<String> messages) {
        List<JsonNode> out = new ArrayList<>(messages.size());
        for (String s : messages) {
            try {
                out.add(JSON.readTree(s));
            } catch (JsonProcessingException e) {
                throw new AssertionError("not JSON: " + s, e);
            }
        }
        return out;
    }
}
