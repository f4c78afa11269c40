package dev.tether.client.e2e;

import static dev.tether.client.e2e.ClientHarness.WAIT;
import static dev.tether.client.e2e.ClientHarness.awaitState;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.client.Gap;
import dev.tether.client.Publication;
import dev.tether.client.PublishResult;
import dev.tether.client.TetherClient;
import dev.tether.client.TetherClient.State;
import dev.tether.server.TetherServer;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server is shut down and a new one (with an empty in-memory store) starts on the same port.
 * Clients reconnect on their own; the subscriber learns that the channel's history is gone
 * (an epoch gap) and nothing published while it was connected is lost or doubled.
 */
class ServerRestartIT {
    private static final String CHANNEL = "restart";

    @Test
    void aRestartedServerIsReportedAsAnEpochGapAndNothingIsLostOrDoubled() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer first = h.server();
            int port = first.port();
            URI url = ClientHarness.url(first);
            EventLog subLog = new EventLog();
            TetherClient subscriber = h.client(url, subLog);
            Recorder rec = new Recorder();
            subscriber.subscribe(CHANNEL, rec);
            subscriber.connect();
            EventLog pubLog = new EventLog();
            TetherClient publisher = h.client(url, pubLog).connect();
            await().atMost(WAIT).until(() -> rec.subscribed.size() == 1);

            List<String> sentWhileUp = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                publishAndRemember(publisher, "before-" + i, sentWhileUp);
            }
            await().atMost(WAIT).until(() -> rec.count() == 10);

            first.shutdown().get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> subscriber.state() == State.RECONNECTING && publisher.state() == State.RECONNECTING);
            // Published while no server runs: queued, sent to the new server, stored there once.
            CompletableFuture<PublishResult> duringOutage = publisher.publish(CHANNEL, Map.of("text", "outage"));

            TetherServer second = h.server(b -> b.port(port));
            assertThat(second.port()).isEqualTo(port);
            await().atMost(WAIT).until(() -> rec.gaps.size() == 1);
            assertThat(rec.gaps.get(0)).isEqualTo(new Gap(-1, -1, Gap.EPOCH));
            awaitState(publisher, State.CONNECTED);
            PublishResult outage = duringOutage.get(10, TimeUnit.SECONDS);
            assertThat(outage.duplicate()).isFalse();

            for (int i = 0; i < 10; i++) {
                publishAndRemember(publisher, "after-" + i, sentWhileUp);
            }
            await().atMost(WAIT).until(() -> rec.publications.stream().anyMatch(p -> p.data().path("text").asText().equals("after-9")));

            List<String> got = rec.publications.stream().map(p -> p.data().path("text").asText()).toList();
            List<String> gotWhileUp = got.stream().filter(t -> !t.equals("outage")).toList();
            long lost = sentWhileUp.stream().filter(t -> !got.contains(t)).count();
            long duplicated = got.size() - got.stream().distinct().count();
            System.out.printf("server restart: delivered %d, lost %d, duplicated %d; events %s%n", got.size(), lost, duplicated,
                    rec.timeline.stream().filter(e -> !e.startsWith("pub")).toList());
            assertThat(gotWhileUp).containsExactlyElementsOf(sentWhileUp);
            assertThat(duplicated).isZero();

            String oldEpoch = rec.publications.get(0).epoch();
            assertThat(rec.publications.subList(0, 10)).allMatch(p -> p.epoch().equals(oldEpoch));
            List<Publication> newEpoch = rec.publications.subList(10, rec.publications.size());
            assertThat(newEpoch).allMatch(p -> !p.epoch().equals(oldEpoch));
            assertThat(newEpoch).extracting(Publication::offset).isSorted();
            int gapAt = rec.timeline.indexOf("gap -1..-1 epoch");
            assertThat(rec.timeline.subList(0, gapAt)).filteredOn(e -> e.startsWith("pub")).hasSize(10);
            assertThat(subLog.connected).hasSize(2);
            assertThat(subLog.connected.get(1).resumed()).as("the new server does not know the session").isFalse();
            assertThat(rec.overlaps).hasValue(0);
        }
    }

    private static void publishAndRemember(TetherClient publisher, String text, List<String> sent) throws Exception {
        publisher.publish(CHANNEL, Map.of("text", text)).get(10, TimeUnit.SECONDS);
        sent.add(text);
    }
}
