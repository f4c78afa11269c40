package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.FaultProxy;
import dev.tether.testkit.WsTestClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A TCP proxy cuts client connections at random while publishers run. Subscribers resume; at the
 * end every subscriber has every publication exactly once, in order, and no publication was
 * stored twice although publishers resent after cuts.
 */
@ExtendWith(NoLeaks.class)
class FaultInjectionIT {
    private static final int SUBSCRIBERS = 8;
    private static final int PUBLISHERS = 2;
    private static final int PER_PUBLISHER = 400;
    private static final long CUT_EVERY_MILLIS = 25;

    @Test
    void randomCutsLoseAndDuplicateNothing() throws Exception {
        try (Harness h = new Harness()) {
            TetherServer server = h.server(b -> b.historySize(10_000));
            FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", server.port()));
            URI viaProxy = URI.create("ws://127.0.0.1:" + proxy.port() + "/ws");
            List<ResilientSubscriber> subs = new ArrayList<>();
            ScheduledExecutorService chaos = Executors.newSingleThreadScheduledExecutor();
            ExecutorService publishers = Executors.newFixedThreadPool(PUBLISHERS);
            try {
                for (int i = 0; i < SUBSCRIBERS; i++) {
                    subs.add(new ResilientSubscriber(viaProxy, "chaos", "s" + i));
                }
                for (ResilientSubscriber s : subs) {
                    s.awaitSubscribed(Duration.ofSeconds(10));
                }
                Random rnd = new Random(42);
                chaos.scheduleAtFixedRate(() -> proxy.cutRandom(rnd), CUT_EVERY_MILLIS, CUT_EVERY_MILLIS, TimeUnit.MILLISECONDS);
                AtomicLong resends = new AtomicLong();
                AtomicLong duplicates = new AtomicLong();
                List<Future<?>> running = new ArrayList<>();
                for (int p = 0; p < PUBLISHERS; p++) {
                    int publisher = p;
                    running.add(publishers.submit(() -> publishAll(viaProxy, publisher, resends, duplicates)));
                }
                for (Future<?> f : running) {
                    f.get(120, TimeUnit.SECONDS);
                }
                chaos.shutdownNow();
                chaos.awaitTermination(5, TimeUnit.SECONDS);
                int total = PUBLISHERS * PER_PUBLISHER;
                JsonNode history = h.ok(h.connected(server), "history", "\"channel\":\"chaos\",\"limit\":1");
                assertThat(history.get("offset").asLong()).as("stored exactly once despite resends").isEqualTo(total);
                await().atMost(Duration.ofSeconds(60)).until(() -> subs.stream().allMatch(s -> s.last() >= total || s.failure() != null));
                System.out.printf("proxy cut %d connections; publishers resent %d times (%d answered as duplicates)%n",
                        proxy.totalCut(), resends.get(), duplicates.get());
                for (int i = 0; i < subs.size(); i++) {
                    ResilientSubscriber s = subs.get(i);
                    List<Long> got = s.delivered();
                    long dup = got.size() - got.stream().distinct().count();
                    System.out.printf("subscriber %d: delivered %d of %d, lost %d, duplicated %d, re-sent by server and dropped %d,"
                            + " connects %d, resumes %d%n", i, got.size(), total, s.lost(), dup, s.redelivered(), s.connects(), s.resumes());
                    assertThat(s.failure()).isNull();
                    assertThat(s.lost()).isZero();
                    assertThat(got).hasSize(total);
                    for (int k = 0; k < total; k++) {
                        assertThat(got.get(k)).isEqualTo(k + 1L);
                    }
                }
                assertThat(proxy.totalCut()).as("the proxy really cut connections").isGreaterThan(SUBSCRIBERS);
                assertThat(subs.stream().mapToInt(ResilientSubscriber::resumes).sum()).as("sessions were resumed").isPositive();
            } finally {
                chaos.shutdownNow();
                publishers.shutdownNow();
                for (ResilientSubscriber s : subs) {
                    s.close();
                }
                proxy.close();
            }
        }
    }

    /** Publishes with unique keys; after a cut, reconnects and resends the same key until answered. */
    private static Void publishAll(URI uri, int publisher, AtomicLong resends, AtomicLong duplicates) {
        WsTestClient ws = null;
        long id = 0;
        for (int i = 0; i < PER_PUBLISHER; i++) {
            String key = "p" + publisher + "-" + i;
            boolean first = true;
            while (true) {
                try {
                    if (ws == null || !ws.isOpen()) {
                        if (ws != null) {
                            ws.abort();
                        }
                        ws = WsTestClient.connect(uri);
                        ws.request("{\"id\":" + (++id) + ",\"op\":\"connect\"}", Duration.ofSeconds(5));
                    }
                    if (!first) {
                        resends.incrementAndGet();
                    }
                    first = false;
                    JsonNode r = ws.request("{\"id\":" + (++id) + ",\"op\":\"publish\",\"channel\":\"chaos\",\"key\":\"" + key
                            + "\",\"data\":{\"p\":" + publisher + ",\"i\":" + i + "}}", Duration.ofSeconds(2));
                    if (r.path("result").path("duplicate").asBoolean()) {
                        duplicates.incrementAndGet();
                    }
                    break;
                } catch (RuntimeException | AssertionError e) {
                    if (ws != null) {
                        ws.abort();
                    }
                    ws = null;
                }
            }
        }
        if (ws != null) {
            ws.abort();
        }
        return null;
    }
}
