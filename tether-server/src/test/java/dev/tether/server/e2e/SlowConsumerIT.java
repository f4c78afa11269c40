package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.server.protocol.CloseCode;
import dev.tether.testkit.WsTestClient;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A client that stops reading (a real socket with autoRead off and a tiny receive buffer) must not
 * grow server memory, must not delay others, and either catches up from history or gets 4002.
 */
@ExtendWith(NoLeaks.class)
class SlowConsumerIT {
    private static final int HIGH_WATER_MARK = 64 * 1024;
    private static final String PAYLOAD = "\"" + "p".repeat(1000) + "\"";
    private Harness h;

    @BeforeEach
    void start() {
        h = new Harness();
    }

    @AfterEach
    void stop() {
        h.close();
    }

    private WsTestClient stalledSubscriber(TetherServer server, String channel) {
        WsTestClient slow = h.raw(URI.create(server.wsUrl()), WsTestClient.Options.defaults().withReceiveBufferBytes(4096));
        h.connect(slow, null);
        h.ok(slow, "subscribe", "\"channel\":\"" + channel + "\"");
        slow.pauseReading();
        return slow;
    }

    /** Publishes {@code count} 1 KB publications, 50 per frame, and waits for every reply. */
    private void publish(WsTestClient pub, String channel, int count, AtomicLong maxPending, TetherServer server) {
        int perFrame = 50;
        for (int done = 0; done < count; done += perFrame) {
            StringBuilder frame = new StringBuilder();
            long lastId = 0;
            for (int i = 0; i < perFrame && done + i < count; i++) {
                lastId = h.id();
                frame.append("{\"id\":").append(lastId).append(",\"op\":\"publish\",\"channel\":\"").append(channel)
                        .append("\",\"data\":").append(PAYLOAD).append("}\n");
            }
            pub.send(frame.toString());
            long want = lastId;
            pub.await(m -> m.path("id").asLong() == want, Harness.WAIT);
            maxPending.accumulateAndGet(server.hub().pendingWriteBytes(), Math::max);
        }
    }

    @Test
    void stalledSubscriberKeepsBoundedServerMemoryAndOthersGetEverything() throws Exception {
        TetherServer server = h.server(b -> b.historySize(100_000).writeBufferHighWaterMark(HIGH_WATER_MARK));
        WsTestClient slow = stalledSubscriber(server, "feed");
        WsTestClient fast = h.connected(server);
        h.ok(fast, "subscribe", "\"channel\":\"feed\"");
        WsTestClient pub = h.connected(server);
        AtomicLong maxPending = new AtomicLong();
        int total = 8000;
        publish(pub, "feed", total, maxPending, server);
        long expect = 1;
        while (expect <= total) {
            JsonNode p = h.nextPub(fast);
            assertThat(p.get("offset").asLong()).isEqualTo(expect++);
        }
        // The stalled socket is unwritable: what the server holds for it is about one high-water mark
        // plus one batch, not the 8 MB published (kernel buffers hold the rest).
        assertThat(maxPending.get()).isLessThan(3L * HIGH_WATER_MARK + 64 * 1024);
        assertThat(slow.isOpen()).isTrue();

        // It catches up from its position in history once it reads again.
        slow.resumeReading();
        for (long o = 1; o <= total; o++) {
            assertThat(h.nextPub(slow).get("offset").asLong()).isEqualTo(o);
        }
    }

    /**
     * Two stalled subscribers fall out of history and get 4002; the other subscriber gets
     * everything. The two closes give one warning with a count, not one each: an overloaded server
     * may close thousands at once.
     */
    @Test
    void stalledSubscribersThatFallOutOfHistoryAreClosedWith4002AndWarnedAboutOnce() throws Exception {
        ch.qos.logback.classic.Logger connectionLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.tether.server.hub.Connection");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        connectionLog.addAppender(logged);
        try {
            TetherServer server = h.server(b -> b.historySize(200).writeBufferHighWaterMark(HIGH_WATER_MARK));
            WsTestClient slow1 = stalledSubscriber(server, "firehose");
            WsTestClient slow2 = stalledSubscriber(server, "firehose");
            WsTestClient fast = h.connected(server);
            h.ok(fast, "subscribe", "\"channel\":\"firehose\"");
            WsTestClient pub = h.connected(server);
            AtomicLong maxPending = new AtomicLong();
            int total = 8000;
            publish(pub, "firehose", total, maxPending, server);
            for (long o = 1; o <= total; o++) {
                assertThat(h.nextPub(fast).get("offset").asLong()).isEqualTo(o);
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> server.hub().metrics().disconnectCount(CloseCode.SLOW_CONSUMER) >= 2);
            slow1.resumeReading();
            slow2.resumeReading();
            slow1.disconnected().get(10, java.util.concurrent.TimeUnit.SECONDS);
            slow2.disconnected().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(server.hub().metrics().disconnectCount(CloseCode.SLOW_CONSUMER)).isEqualTo(2);
            assertThat(fast.isOpen()).isTrue();
            assertThat(maxPending.get()).isLessThan(3L * HIGH_WATER_MARK + 64 * 1024);
            var warnings = logged.list.stream()
                    .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .toList();
            assertThat(warnings).hasSize(1);
            assertThat(warnings.get(0)).startsWith("1 slow consumer(s) closed with 4002")
                    .contains("fell out of history of firehose at offset", "tether_slow_consumer_events_total");
        } finally {
            connectionLog.detachAppender(logged);
        }
    }

    /**
     * max-pending-write-bytes counts what already waits: one reply larger than the limit (a full
     * history page) reaches a client that reads, instead of closing it with 4002.
     */
    @Test
    void oneReplyLargerThanTheLimitReachesAClientThatReads() throws Exception {
        TetherServer server = h.server(b -> b.writeBufferHighWaterMark(HIGH_WATER_MARK).maxPendingWriteBytes(HIGH_WATER_MARK));
        WsTestClient pub = h.connected(server);
        publish(pub, "big", 200, new AtomicLong(), server); // 200 x 1 KB: a 200 KB history reply
        WsTestClient reader = h.connected(server);
        JsonNode page = h.ok(reader, "history", "\"channel\":\"big\",\"limit\":200");
        assertThat(page.get("publications")).hasSize(200);
        assertThat(reader.isOpen()).isTrue();
        assertThat(server.hub().metrics().disconnectCount(CloseCode.SLOW_CONSUMER)).isZero();
    }

    /**
     * A client that stops reading while replies pile up is closed once with 4002 and its disconnect
     * push: queueing that push must not find it over the limit again and recurse.
     */
    @Test
    void aClientOverThePendingLimitIsClosedOnceWithItsPush() throws Exception {
        TetherServer server = h.server(b -> b.writeBufferHighWaterMark(HIGH_WATER_MARK).maxPendingWriteBytes(HIGH_WATER_MARK));
        WsTestClient pub = h.connected(server);
        publish(pub, "big", 100, new AtomicLong(), server);
        WsTestClient stalled = h.raw(URI.create(server.wsUrl()), WsTestClient.Options.defaults().withReceiveBufferBytes(4096));
        h.connect(stalled, null);
        stalled.pauseReading();
        StringBuilder asks = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            asks.append("{\"id\":").append(h.id()).append(",\"op\":\"history\",\"channel\":\"big\",\"limit\":100}\n");
        }
        stalled.send(asks.toString());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.hub().metrics().disconnectCount(CloseCode.SLOW_CONSUMER) >= 1);
        stalled.resumeReading();
        stalled.disconnected().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(server.hub().metrics().disconnectCount(CloseCode.SLOW_CONSUMER)).isEqualTo(1);
        assertThat(stalled.all()).anyMatch(m -> m.contains("\"op\":\"disconnect\"") && m.contains("4002"));
    }

    /**
     * WebSocket Pings that arrive while the server cannot write to the client (it is catching up)
     * are answered once it drains, the latest with one Pong, instead of never (RFC 6455 5.5.2) or
     * once each into an unbounded queue.
     */
    @Test
    void pingsReceivedWhileTheSocketIsFullAreAnsweredOnceItDrains() throws Exception {
        TetherServer server = h.server(b -> b.historySize(100_000).writeBufferHighWaterMark(HIGH_WATER_MARK));
        WsTestClient slow = stalledSubscriber(server, "catchup");
        WsTestClient pub = h.connected(server);
        publish(pub, "catchup", 8000, new AtomicLong(), server);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.hub().pendingWriteBytes() > 0);
        for (int i = 0; i < 3; i++) {
            slow.sendPing();
        }
        h.barrier(pub);
        slow.resumeReading();
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.pongsReceived() >= 1);
        assertThat(slow.pongsReceived()).isBetween(1, 3);
        assertThat(slow.isOpen()).isTrue();
    }

    @Test
    void windowStopsDeliveryToAnAckingClientUntilItAcks() throws Exception {
        TetherServer server = h.server(b -> b.window(10));
        WsTestClient sub = h.connected(server);
        h.ok(sub, "subscribe", "\"channel\":\"w\"");
        WsTestClient pub = h.connected(server);
        h.ok(pub, "publish", "\"channel\":\"w\",\"data\":1");
        assertThat(h.nextPub(sub).get("offset").asLong()).isEqualTo(1);
        sub.send("{\"op\":\"ack\",\"channel\":\"w\",\"offset\":1}");
        // The window applies from the first ack on: make sure the server has it before publishing on.
        h.barrier(sub);
        for (int i = 2; i <= 30; i++) {
            h.ok(pub, "publish", "\"channel\":\"w\",\"data\":" + i);
        }
        for (long o = 2; o <= 11; o++) {
            assertThat(h.nextPub(sub).get("offset").asLong()).isEqualTo(o);
        }
        // A marker on another channel proves the 12th was held back, not merely late.
        h.ok(sub, "subscribe", "\"channel\":\"marker\"");
        h.ok(pub, "publish", "\"channel\":\"marker\",\"data\":\"m\"");
        assertThat(h.nextPub(sub).get("channel").asText()).isEqualTo("marker");
        sub.send("{\"op\":\"ack\",\"channel\":\"w\",\"offset\":11}");
        for (long o = 12; o <= 21; o++) {
            assertThat(h.nextPub(sub).get("offset").asLong()).isEqualTo(o);
        }
    }

    /**
     * Large frames to a reader that stopped: the write that fills the socket is cut short by the
     * kernel and the rest of that frame is queued behind it, so frames must still arrive whole and
     * in order once it reads again.
     */
    @Test
    void largePublicationsToAStalledSubscriberArriveWholeAndInOrder() throws Exception {
        TetherServer server = h.server(b -> b.historySize(1000));
        WsTestClient slow = stalledSubscriber(server, "big");
        WsTestClient pub = h.connected(server);
        int total = 150; // 4.5 MB, more than the socket buffers of a reader that stopped hold
        for (int i = 1; i <= total; i++) {
            long id = h.id();
            pub.send("{\"id\":" + id + ",\"op\":\"publish\",\"channel\":\"big\",\"data\":\"" + bigText(i) + "\"}");
            pub.await(m -> m.path("id").asLong() == id, Harness.WAIT);
        }
        assertThat(server.hub().pendingWriteBytes()).as("bytes waiting in the server for the stalled socket").isPositive();
        slow.resumeReading();
        for (int i = 1; i <= total; i++) {
            JsonNode p = h.nextPub(slow);
            assertThat(p.get("offset").asLong()).isEqualTo(i);
            assertThat(p.get("data").asText()).as("data of offset %d", i).isEqualTo(bigText(i));
        }
    }

    private static String bigText(int i) {
        return String.valueOf((char) ('a' + i % 26)).repeat(30_000) + i;
    }

    @Test
    void liveSubscriberBehindABurstLargerThanHistoryStillGetsEverything() throws Exception {
        TetherServer server = h.server(b -> b.historySize(1));
        WsTestClient sub = h.connected(server);
        h.ok(sub, "subscribe", "\"channel\":\"latest\"");
        WsTestClient pub = h.connected(server);
        StringBuilder burst = new StringBuilder();
        for (int i = 1; i <= 10; i++) {
            burst.append("{\"id\":").append(i).append(",\"op\":\"publish\",\"channel\":\"latest\",\"data\":").append(i).append("}\n");
        }
        pub.send(burst.toString());
        for (long o = 1; o <= 10; o++) {
            assertThat(h.nextPub(sub).get("offset").asLong()).isEqualTo(o);
        }
        assertThat(sub.isOpen()).isTrue();
    }
}
