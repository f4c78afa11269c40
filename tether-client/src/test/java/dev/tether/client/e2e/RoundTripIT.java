package dev.tether.client.e2e;

import static dev.tether.client.e2e.ClientHarness.WAIT;
import static dev.tether.client.e2e.ClientHarness.awaitState;
import static dev.tether.client.e2e.ClientHarness.url;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.client.ClientInfo;
import dev.tether.client.HistoryResult;
import dev.tether.client.InMemoryOffsetStore;
import dev.tether.client.PublishResult;
import dev.tether.client.StreamPosition;
import dev.tether.client.SubscribeOptions;
import dev.tether.client.Subscription;
import dev.tether.client.TetherClient.State;
import dev.tether.client.TetherClient;
import dev.tether.client.TetherException;
import dev.tether.server.TetherServer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RoundTripIT {
    record Message(String text) {
    }

    /**
     * Protocol E: the client acks in the same frame as its subscribe (the server counts that ack, read
     * right after the subscribe) and again after the result: two acks for one quiet subscription,
     * where a client acking only after the result sends one.
     */
    @Test
    void aSubscribeIsFollowedByAnAckInItsOwnFrame() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            Recorder recorder = new Recorder();
            TetherClient c = h.client(h.builder(url(server)));
            c.subscribe("quiet", recorder);
            c.connect();
            await().atMost(WAIT).until(() -> recorder.subscribed.size() == 1);
            await().atMost(WAIT).until(() -> server.hub().metrics().acks.sum() >= 2);
            assertThat(server.hub().metrics().acks.sum()).isEqualTo(2);
        }
    }

    @Test
    void subscribePublishHistoryAndPresenceRoundTrip() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            EventLog aliceLog = new EventLog();
            TetherClient alice = h.client(h.builder(url(server)).listener(aliceLog).info(Map.of("name", "Alice")));
            Recorder lobby = new Recorder();
            Subscription sub = alice.subscribe("chat:lobby", lobby, SubscribeOptions.defaults().presence(true));
            assertThat(alice.state()).isEqualTo(State.NEW);
            alice.connect();
            await().atMost(WAIT).until(() -> lobby.subscribed.size() == 1);
            assertThat(sub.position()).isEqualTo(lobby.subscribed.get(0).position());

            EventLog bobLog = new EventLog();
            TetherClient bob = h.client(h.builder(url(server)).listener(bobLog).info(Map.of("name", "Bob"))).connect();
            PublishResult first = bob.publish("chat:lobby", new Message("hi")).get(10, TimeUnit.SECONDS);
            PublishResult second = bob.publish("chat:lobby", JsonNodeFactory.instance.textNode("hello")).get(10, TimeUnit.SECONDS);
            assertThat(first.offset()).isEqualTo(1);
            assertThat(first.duplicate()).isFalse();
            assertThat(second.offset()).isEqualTo(2);

            await().atMost(WAIT).until(() -> lobby.count() == 2);
            assertThat(lobby.offsets()).containsExactly(1L, 2L);
            assertThat(lobby.publications.get(0).dataAs(Message.class)).isEqualTo(new Message("hi"));
            assertThat(lobby.publications.get(0).epoch()).isEqualTo(first.epoch());
            assertThat(lobby.publications.get(1).data().asText()).isEqualTo("hello");
            String bobId = bobLog.connected.get(0).client();
            assertThat(lobby.publications.get(0).from().client()).isEqualTo(bobId);
            await().atMost(WAIT).until(() -> sub.position() != null && sub.position().offset() == 2);

            HistoryResult history = alice.history("chat:lobby", 10).get(10, TimeUnit.SECONDS);
            assertThat(history.publications()).extracting(p -> p.offset()).containsExactly(1L, 2L);
            assertThat(history.offset()).isEqualTo(2);
            assertThat(history.epoch()).isEqualTo(first.epoch());
            HistoryResult after = alice.history("chat:lobby", 10, new StreamPosition(1, first.epoch())).get(10, TimeUnit.SECONDS);
            assertThat(after.publications()).extracting(p -> p.data().asText()).containsExactly("hello");

            String aliceId = aliceLog.connected.get(0).client();
            List<ClientInfo> present = bob.presence("chat:lobby").get(10, TimeUnit.SECONDS);
            assertThat(present).extracting(ClientInfo::client).containsExactly(aliceId);
            assertThat(present.get(0).info().path("name").asText()).isEqualTo("Alice");

            Subscription bobSub = bob.subscribe("chat:lobby", p -> { });
            await().atMost(WAIT).until(() -> lobby.joins.stream().anyMatch(c -> c.client().equals(bobId)));
            bobSub.unsubscribe().get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> lobby.leaves.stream().anyMatch(c -> c.client().equals(bobId)));

            bob.subscribe("chat:lobby", p -> { });
            await().atMost(WAIT).until(() -> lobby.joins.stream().filter(c -> c.client().equals(bobId)).count() == 2);
            bob.close();
            bob.closed().get(10, TimeUnit.SECONDS);
            await("close 1000 ends the session at once").atMost(WAIT)
                    .until(() -> lobby.leaves.stream().filter(c -> c.client().equals(bobId)).count() == 2);
            assertThat(bobLog.closedCode).isCompletedWithValue(1000);
            assertThat(lobby.overlaps).hasValue(0);
        }
    }

    /** What is published is the data at the call: changing the node afterwards changes nothing. */
    @Test
    void publishSendsTheDataAsItWasWhenCalled() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            TetherClient c = h.client(h.builder(url(server)));
            com.fasterxml.jackson.databind.node.ObjectNode data =
                    com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("text", "before");
            var stored = c.publish("mutable", data); // queued: not connected yet
            data.put("text", "after");
            c.connect();
            stored.get(10, TimeUnit.SECONDS);
            var page = c.history("mutable", 10).get(10, TimeUnit.SECONDS);
            assertThat(page.publications()).singleElement()
                    .satisfies(p -> assertThat(p.data().path("text").asText()).isEqualTo("before"));
        }
    }

    /** A future of a client already closed completes on the callback executor, not on Netty's thread. */
    @Test
    void aFutureOfAClosedClientCompletesOnTheCallbackExecutor() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            java.util.concurrent.ExecutorService callbacks = java.util.concurrent.Executors.newSingleThreadExecutor(
                    r -> new Thread(r, "app-callbacks"));
            try {
                TetherClient c = h.client(h.builder(url(server)).callbackExecutor(callbacks)).connect();
                c.close();
                c.closed().get(10, TimeUnit.SECONDS);
                // The callback thread is held until the observer is attached, so the completion cannot
                // happen before it and run it on this thread instead.
                var hold = new java.util.concurrent.CountDownLatch(1);
                callbacks.execute(() -> {
                    try {
                        hold.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                var thread = new java.util.concurrent.CompletableFuture<String>();
                c.publish("x", 1).whenComplete((r, e) -> thread.complete(Thread.currentThread().getName()));
                hold.countDown();
                assertThat(thread.get(10, TimeUnit.SECONDS)).isEqualTo("app-callbacks");
            } finally {
                callbacks.shutdownNow();
            }
        }
    }

    @Test
    void aRepeatedKeyIsStoredOnceAndAnsweredAsDuplicate() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            TetherClient c = h.client(h.builder(url(server))).connect();
            PublishResult once = c.publish("orders", Map.of("id", 7), "order-7").get(10, TimeUnit.SECONDS);
            PublishResult again = c.publish("orders", Map.of("id", 7), "order-7").get(10, TimeUnit.SECONDS);
            assertThat(again.duplicate()).isTrue();
            assertThat(again.offset()).isEqualTo(once.offset());
            assertThat(c.history("orders", 10).get(10, TimeUnit.SECONDS).publications()).hasSize(1);
        }
    }

    @Test
    void permanentErrorsFailTheFutureAndEndTheSubscription() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            TetherClient c = h.client(h.builder(url(server))).connect();
            CompletableFuture<PublishResult> bad = c.publish("not a channel!", Map.of());
            assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(TetherException.class)
                    .satisfies(e -> assertThat(((TetherException) e).code()).isEqualTo(101));
            Recorder r = new Recorder();
            c.subscribe("not a channel!", r);
            await().atMost(WAIT).until(() -> r.errors.size() == 1);
            assertThat(r.errors.get(0).code()).isEqualTo(101);
            c.subscribe("x", p -> { }).unsubscribe().get(10, TimeUnit.SECONDS);
            assertThat(c.subscribe("x", p -> { })).as("after unsubscribing, the channel can be subscribed again").isNotNull();
            assertThatThrownBy(() -> c.subscribe("x", p -> { })).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void closeFailsWhatIsPendingAndPromisesNoFurtherCalls() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            EventLog log = new EventLog();
            TetherClient c = h.client(h.builder(java.net.URI.create("ws://127.0.0.1:1/ws")).listener(log));
            CompletableFuture<PublishResult> queued = c.publish("chat", Map.of("text", "never sent"));
            c.close();
            c.closed().get(10, TimeUnit.SECONDS);
            assertThat(c.state()).isEqualTo(State.CLOSED);
            assertThatThrownBy(() -> queued.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(TetherException.class)
                    .satisfies(e -> assertThat(((TetherException) e).code()).isEqualTo(TetherException.CLIENT_CLOSED));
            assertThat(log.closedCode).isCompletedWithValue(1000);
            assertThatThrownBy(() -> c.publish("chat", Map.of()).get(10, TimeUnit.SECONDS)).cause().isInstanceOf(TetherException.class);
            assertThat(log.afterClosed).hasValue(0);
        }
    }

    @Test
    void aSessionTakenOverByAnotherClientClosesTheFirstForGood() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server();
            InMemoryOffsetStore shared = new InMemoryOffsetStore();
            EventLog firstLog = new EventLog();
            TetherClient first = h.client(h.builder(url(server)).listener(firstLog).offsetStore(shared)).connect();
            awaitState(first, State.CONNECTED);
            await().atMost(WAIT).until(() -> shared.loadSession() != null);
            EventLog secondLog = new EventLog();
            TetherClient second = h.client(h.builder(url(server)).listener(secondLog).offsetStore(shared)).connect();
            awaitState(second, State.CONNECTED);
            assertThat(secondLog.connected.get(0).resumed()).isTrue();
            assertThat(firstLog.closedCode.get(10, TimeUnit.SECONDS)).isEqualTo(4502);
            assertThat(first.state()).isEqualTo(State.CLOSED);
            assertThat(firstLog.events).contains("disconnected 4502 reconnect=false");
            assertThat(firstLog.afterClosed).hasValue(0);
        }
    }

    @Test
    void publishRefusedByTheChannelsKeyLimitIsRetriedWithTheSameKeyUntilStored() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            // One key per channel, remembered 2 s: the second publish is refused (107, retryAfter
            // until the first key expires) and the client sends it again, with the same key.
            TetherServer server = h.server(b -> b.dedupMaxKeys(1).dedupWindow(java.time.Duration.ofSeconds(2)));
            TetherClient c = h.client(h.builder(url(server))).connect();
            long start = System.nanoTime(); // before the first key is stored: the second waits for it to expire
            PublishResult first = c.publish("limited", new Message("one")).get(10, TimeUnit.SECONDS);
            CompletableFuture<PublishResult> second = c.publish("limited", new Message("two"));
            PublishResult stored = second.get(15, TimeUnit.SECONDS);
            long waitedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(stored.offset()).isEqualTo(first.offset() + 1);
            assertThat(stored.duplicate()).isFalse();
            assertThat(waitedMillis).as("stored only once the first key expired (2 s, less clock granularity)").isGreaterThanOrEqualTo(1_900);
            assertThat(server.hub().metrics().keyLimitRefusals.sum()).isPositive();
            HistoryResult history = c.history("limited", 10).get(10, TimeUnit.SECONDS);
            assertThat(history.publications()).extracting(p -> p.dataAs(Message.class))
                    .containsExactly(new Message("one"), new Message("two"));
        }
    }
}
