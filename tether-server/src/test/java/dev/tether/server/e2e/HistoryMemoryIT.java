package dev.tether.server.e2e;

import static dev.tether.server.e2e.Harness.WAIT;
import static dev.tether.server.e2e.HttpApiIT.json;
import static dev.tether.server.e2e.HttpApiIT.samples;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.TetherServer;
import dev.tether.server.config.MemoryLimit;
import dev.tether.testkit.WsTestClient;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code history-memory} on a real server: over the limit the oldest publications of any channel
 * leave history, channels left with nothing are dropped, a caught-up subscriber does not notice,
 * and a recovery from before the trim is told exactly what is missing.
 */
class HistoryMemoryIT {
    private static final long LIMIT = 256 << 10;
    /** About 2.5 KB counted per publication (2 KB of data, the rest frame and heap). */
    private static final String DATA = "\"" + "m".repeat(2000) + "\"";

    private final Harness h = new Harness();

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void overTheLimitTheOldestHistoryGoesFirstAndRecoveryReportsTheGap() throws Exception {
        TetherServer server = h.server(b -> b.historyMemory(new MemoryLimit(LIMIT, 0)));
        WsTestClient live = h.connected(server);
        String epoch = h.ok(live, "subscribe", "\"channel\":\"kept\"").get("epoch").asText();

        // Oldest first: 20 channels nobody subscribes to, ~50 KB; then ~200 KB in "kept".
        for (int i = 0; i < 20; i++) {
            assertThat(RawHttp.post(server, "/api/publish", "{\"channel\":\"gone:" + i + "\",\"data\":" + DATA + "}")
                    .statusCode()).isEqualTo(200);
        }
        for (int i = 1; i <= 80; i++) {
            publish(server, "kept");
            assertThat(h.nextPub(live).get("offset").asLong()).isEqualTo(i);
        }
        // Keep publishing (each publish over the limit asks for a trim; publications younger than
        // 100 ms are never trimmed) until "kept" itself has lost its oldest.
        long[] top = {80};
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            publish(server, "kept");
            top[0]++;
            JsonNode h = json(RawHttp.get(server, "/api/history?channel=kept&since=0&epoch=" + epoch + "&limit=1"));
            return h.has("gap") && metric(server, "tether_history_memory_bytes") <= LIMIT;
        });
        // The trim that reached "kept" may still be finishing (it drops emptied channels last).
        await().atMost(WAIT).untilAsserted(() -> {
            Map<String, Double> m = samples(RawHttp.get(server, "/metrics").body());
            assertThat(m.get("tether_history_memory_limit_bytes")).isEqualTo((double) LIMIT);
            assertThat(m.get("tether_history_memory_channel_releases_total")).as("the 20 emptied channels").isEqualTo(20);
            assertThat(m.get("tether_history_memory_evictions_total")).isGreaterThan(20);
            JsonNode channels = json(RawHttp.get(server, "/api/channels")).get("channels");
            assertThat(channels).hasSize(1);
            assertThat(channels.get(0).get("channel").asText()).isEqualTo("kept");
        });

        // The caught-up subscriber got every publication and is still connected.
        for (long o = 81; o <= top[0]; o++) {
            assertThat(h.nextPub(live).get("offset").asLong()).isEqualTo(o);
        }
        assertThat(live.isOpen()).isTrue();

        // A recovery from the start is told what left history, then gets the rest in order.
        WsTestClient late = h.connected(server);
        JsonNode r = h.ok(late, "subscribe", "\"channel\":\"kept\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}");
        assertThat(r.get("recovered").asBoolean()).isFalse();
        JsonNode gap = r.get("gap");
        assertThat(gap.get("reason").asText()).isEqualTo("retention");
        assertThat(gap.get("from").asLong()).isEqualTo(1);
        long lastGone = gap.get("to").asLong();
        assertThat(lastGone).isBetween(1L, top[0] - 1);
        for (long o = lastGone + 1; o <= top[0]; o++) {
            assertThat(h.nextPub(late).get("offset").asLong()).isEqualTo(o);
        }
        JsonNode history = json(RawHttp.get(server, "/api/history?channel=kept&since=0&epoch=" + epoch + "&limit=1"));
        assertThat(history.get("gap").get("to").asLong()).isEqualTo(lastGone);
    }

    private static void publish(TetherServer server, String channel) {
        assertThat(RawHttp.post(server, "/api/publish", "{\"channel\":\"" + channel + "\",\"data\":" + DATA + "}")
                .statusCode()).isEqualTo(200);
    }

    private static double metric(TetherServer server, String name) {
        return samples(RawHttp.get(server, "/metrics").body()).get(name);
    }
}
