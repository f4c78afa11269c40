package dev.tether.client.e2e;

import static dev.tether.client.e2e.ClientHarness.WAIT;
import static dev.tether.client.e2e.ClientHarness.awaitState;
import static dev.tether.client.e2e.ClientHarness.url;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.client.FileOffsetStore;
import dev.tether.client.PublishResult;
import dev.tether.client.SubscriptionRecovery;
import dev.tether.client.TetherClient;
import dev.tether.client.TetherClient.State;
import dev.tether.server.TetherServer;
import dev.tether.testkit.FaultProxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumeIT {
    @TempDir
    Path dir;

    private static void publish(TetherClient c, String channel, int from, int to) throws Exception {
        for (int i = from; i <= to; i++) {
            c.publish(channel, Map.of("n", i)).get(10, TimeUnit.SECONDS);
        }
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void aCutConnectionResumesAndReplaysWhatWasMissedExactlyOnce() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            FaultProxy proxy = h.proxy(server);
            EventLog log = new EventLog();
            TetherClient subscriber = h.client(ClientHarness.url(proxy), log);
            Recorder news = new Recorder();
            subscriber.subscribe("news", news);
            subscriber.connect();
            await().atMost(WAIT).until(() -> news.subscribed.size() == 1);
            TetherClient publisher = h.client(h.builder(url(server))).connect();
            publish(publisher, "news", 1, 5);
            await().atMost(WAIT).until(() -> news.count() == 5);

            proxy.setRefusing(true);
            proxy.cutAll();
            awaitState(subscriber, State.RECONNECTING);
            publish(publisher, "news", 6, 20);
            proxy.setRefusing(false);

            await().atMost(WAIT).until(() -> news.count() >= 20);
            assertThat(news.offsets()).containsExactlyElementsOf(range(1, 20));
            assertThat(news.gaps).isEmpty();
            awaitState(subscriber, State.CONNECTED);
            assertThat(log.connected).hasSize(2);
            List<SubscriptionRecovery> recoveries = log.connected.get(1).subscriptions();
            assertThat(log.connected.get(1).resumed()).isTrue();
            assertThat(log.connected.get(1).client()).isEqualTo(log.connected.get(0).client());
            assertThat(recoveries).singleElement().satisfies(r -> {
                assertThat(r.channel()).isEqualTo("news");
                assertThat(r.recovered()).isTrue();
                assertThat(r.resumed()).isTrue();
            });
            assertThat(log.events).containsSubsequence("NEW->CONNECTING", "CONNECTING->CONNECTED",
                    "disconnected 1006 reconnect=true", "CONNECTED->RECONNECTING", "RECONNECTING->CONNECTED");
        }
    }

    @Test
    void publishesMadeWhileDisconnectedAreSentOnReconnectAndStoredOnce() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            FaultProxy proxy = h.proxy(server);
            TetherClient publisher = h.client(ClientHarness.url(proxy), new EventLog()).connect();
            awaitState(publisher, State.CONNECTED);
            proxy.setRefusing(true);
            proxy.cutAll();
            awaitState(publisher, State.RECONNECTING);
            List<CompletableFuture<PublishResult>> queued = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                queued.add(publisher.publish("queue", Map.of("n", i)));
            }
            assertThat(queued).noneMatch(CompletableFuture::isDone);
            proxy.setRefusing(false);
            for (int i = 0; i < 10; i++) {
                assertThat(queued.get(i).get(10, TimeUnit.SECONDS).offset()).isEqualTo(i + 1L);
            }
        }
    }

    @Test
    void aNewClientOnTheSameOffsetStoreFileContinuesWhereTheLastStopped() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            Path file = dir.resolve("positions.json");
            TetherClient publisher = h.client(h.builder(url(server))).connect();

            Recorder before = new Recorder();
            TetherClient first = h.client(h.builder(url(server)).offsetStore(new FileOffsetStore(file)));
            first.subscribe("feed", before);
            first.connect();
            await().atMost(WAIT).until(() -> before.subscribed.size() == 1);
            publish(publisher, "feed", 1, 10);
            // Closed as soon as the listener has handled 10, before the periodic save can run: the
            // close itself saves where the listener got to, before closed() completes.
            await().pollInterval(java.time.Duration.ofMillis(1)).atMost(WAIT).until(() -> before.count() == 10);
            first.close();
            first.closed().get(10, TimeUnit.SECONDS);
            assertThat(new FileOffsetStore(file).load("feed")).extracting(p -> p.offset()).isEqualTo(10L);

            publish(publisher, "feed", 11, 15);
            Recorder after = new Recorder();
            TetherClient second = h.client(h.builder(url(server)).offsetStore(new FileOffsetStore(file)));
            second.subscribe("feed", after);
            second.connect();
            await().atMost(WAIT).until(() -> after.count() >= 5);
            publish(publisher, "feed", 16, 17);
            await().atMost(WAIT).until(() -> after.count() >= 7);
            assertThat(after.offsets()).containsExactlyElementsOf(range(11, 17));
            assertThat(after.subscribed.get(0).recovered()).isTrue();
        }
    }
}
