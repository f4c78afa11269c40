package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsTestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Subscriptions with {@code since} switch from history to live atomically while publications keep
 * arriving from several threads: every subscriber sees each offset exactly once, in order.
 */
@ExtendWith(NoLeaks.class)
class RecoveryRaceIT {
    private static final int PUBLISHERS = 4;
    private static final int PER_PUBLISHER = 600;
    private static final int SUBSCRIBERS = 6;
    private static final int RESUBSCRIBES = 5;
    private Harness h;
    private TetherServer server;

    @BeforeEach
    void start() throws Exception {
        h = new Harness();
        server = h.server(b -> b.historySize(100_000));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void subscribersRecoveringDuringConcurrentPublishingSeeEveryOffsetOnceInOrder() throws Exception {
        WsTestClient first = h.connected(server);
        String epoch = h.ok(first, "publish", "\"channel\":\"race\",\"data\":0").get("epoch").asText();
        int total = 1 + PUBLISHERS * PER_PUBLISHER;
        ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS + SUBSCRIBERS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> publishers = new ArrayList<>();
        for (int p = 0; p < PUBLISHERS; p++) {
            WsTestClient c = h.connected(server);
            publishers.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < PER_PUBLISHER; i += 10) {
                    StringBuilder frame = new StringBuilder();
                    long last = 0;
                    for (int j = 0; j < 10; j++) {
                        last = h.id();
                        frame.append("{\"id\":").append(last).append(",\"op\":\"publish\",\"channel\":\"race\",\"data\":1}\n");
                    }
                    c.send(frame.toString());
                    long want = last;
                    c.await(m -> m.path("id").asLong() == want, Harness.WAIT);
                }
                return null;
            }));
        }
        List<Future<List<Long>>> subscribers = new ArrayList<>();
        for (int s = 0; s < SUBSCRIBERS; s++) {
            WsTestClient c = h.connected(server);
            subscribers.add(pool.submit(() -> {
                go.await();
                return followWithResubscribes(c, epoch, total);
            }));
        }
        go.countDown();
        for (Future<?> f : publishers) {
            f.get(60, TimeUnit.SECONDS);
        }
        int index = 0;
        for (Future<List<Long>> f : subscribers) {
            List<Long> seen = f.get(60, TimeUnit.SECONDS);
            long duplicates = seen.size() - seen.stream().distinct().count();
            System.out.printf("subscriber %d: %d delivered, %d duplicated, %d lost%n", index++, seen.size(), duplicates,
                    total - seen.stream().distinct().count());
            assertThat(seen).hasSize(total);
            for (int i = 0; i < total; i++) {
                assertThat(seen.get(i)).as("offset at position %d", i).isEqualTo(i + 1L);
            }
        }
        pool.shutdownNow();
    }

    /**
     * Subscribes from offset 0, and {@value #RESUBSCRIBES} times unsubscribes at a random point and
     * subscribes again with {@code since} = the last offset it saw, until it has seen {@code total}.
     */
    private List<Long> followWithResubscribes(WsTestClient c, String epoch, int total) {
        List<Long> seen = new ArrayList<>(total);
        int resubscribes = 0;
        long last = 0;
        while (last < total) {
            long subId = h.id();
            c.send("{\"id\":" + subId + ",\"op\":\"subscribe\",\"channel\":\"race\",\"since\":{\"offset\":" + last
                    + ",\"epoch\":\"" + epoch + "\"}}");
            long stopAt = resubscribes < RESUBSCRIBES
                    ? last + 1 + ThreadLocalRandom.current().nextInt(total / RESUBSCRIBES)
                    : total;
            boolean replied = false;
            while (!replied || last < Math.min(stopAt, total)) {
                JsonNode m = c.pollJson(Duration.ofSeconds(20));
                assertThat(m).as("subscriber stalled at offset %d", last).isNotNull();
                if (m.path("id").asLong() == subId) {
                    assertThat(m.path("result").path("recovered").asBoolean()).as("reply %s", m).isTrue();
                    replied = true;
                } else if ("pub".equals(m.path("op").asText())) {
                    last = m.get("offset").asLong();
                    seen.add(last);
                }
            }
            if (last >= total) {
                break;
            }
            long unsubId = h.id();
            c.send("{\"id\":" + unsubId + ",\"op\":\"unsubscribe\",\"channel\":\"race\"}");
            while (true) {
                JsonNode m = c.pollJson(Duration.ofSeconds(20));
                assertThat(m).as("no unsubscribe reply").isNotNull();
                if (m.path("id").asLong() == unsubId) {
                    break;
                }
                if ("pub".equals(m.path("op").asText())) {
                    last = m.get("offset").asLong();
                    seen.add(last);
                }
            }
            resubscribes++;
        }
        return seen;
    }
}
