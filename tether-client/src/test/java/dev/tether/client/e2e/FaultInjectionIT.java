package dev.tether.client.e2e;

import static dev.tether.client.e2e.ClientHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.client.PublishResult;
import dev.tether.client.TetherClient;
import dev.tether.server.TetherServer;
import dev.tether.testkit.FaultProxy;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * A TCP proxy cuts connections at random while two publishing clients and five subscribing
 * clients work through it. The applications see every publication exactly once, in order; every
 * publish future completes exactly once; and the server stored each publication once although
 * publishes were resent after cuts.
 */
class FaultInjectionIT {
    private static final String CHANNEL = "chaos";
    private static final int PUBLISHERS = 2;
    private static final int PER_PUBLISHER = 300;
    private static final int SUBSCRIBERS = 5;
    private static final long CUT_EVERY_MILLIS = 25;
    private static final int IN_FLIGHT = 4;

    @Test
    void randomCutsLoseNothingDuplicateNothingAndCompleteEveryPublishOnce() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            // A small ack window: subscribers progress only as their acks arrive, through the cuts too.
            TetherServer server = h.server(b -> b.historySize(10_000).window(64));
            FaultProxy proxy = h.proxy(server);
            URI viaProxy = ClientHarness.url(proxy);

            List<Recorder> recorders = new ArrayList<>();
            List<EventLog> subLogs = new ArrayList<>();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                Recorder r = new Recorder();
                EventLog log = new EventLog();
                TetherClient c = h.client(h.builder(viaProxy).listener(log).name("subscriber-" + i));
                c.subscribe(CHANNEL, r);
                c.connect();
                recorders.add(r);
                subLogs.add(log);
            }
            List<TetherClient> publishers = new ArrayList<>();
            for (int p = 0; p < PUBLISHERS; p++) {
                publishers.add(h.client(h.builder(viaProxy).name("publisher-" + p)).connect());
            }
            await().atMost(WAIT).until(() -> recorders.stream().allMatch(r -> !r.subscribed.isEmpty()));

            ScheduledExecutorService chaos = Executors.newSingleThreadScheduledExecutor();
            Random rnd = new Random(42);
            chaos.scheduleAtFixedRate(() -> proxy.cutRandom(rnd), CUT_EVERY_MILLIS, CUT_EVERY_MILLIS, TimeUnit.MILLISECONDS);
            AtomicInteger completions = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            List<CompletableFuture<PublishResult>> futures = new CopyOnWriteArrayList<>();
            int total = PUBLISHERS * PER_PUBLISHER;
            List<Thread> running = new ArrayList<>();
            try {
                for (int p = 0; p < PUBLISHERS; p++) {
                    int publisher = p;
                    Thread t = new Thread(() -> publishAll(publishers.get(publisher), publisher, futures, completions, failures),
                            "publisher-" + p);
                    running.add(t);
                    t.start();
                }
                for (Thread t : running) {
                    t.join(60_000);
                }
                CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
                // Cuts go on while the subscribers catch up: resumes in the middle of a replay.
                await().atMost(Duration.ofSeconds(30)).until(() -> recorders.stream().allMatch(r -> r.count() >= total));
            } finally {
                chaos.shutdownNow();
                chaos.awaitTermination(5, TimeUnit.SECONDS);
            }
            long duplicateAnswers = futures.stream().filter(f -> f.join().duplicate()).count();

            TetherClient auditor = h.client(h.builder(ClientHarness.url(server))).connect();
            long stored = auditor.history(CHANNEL, 1).get(10, TimeUnit.SECONDS).offset();

            System.out.printf("proxy cut %d connections; %d publish futures completed %d times (%d failed),"
                    + " %d answered as duplicates of a resend; channel offset %d%n",
                    proxy.totalCut(), futures.size(), completions.get(), failures.get(), duplicateAnswers, stored);
            List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                Recorder r = recorders.get(i);
                List<Long> got = r.offsets();
                long lost = expected.stream().filter(o -> !got.contains(o)).count();
                long duplicated = got.size() - got.stream().distinct().count();
                System.out.printf("subscriber %d: delivered %d of %d, lost %d, duplicated %d, connects %d, resumes %d, gaps %d%n",
                        i, got.size(), total, lost, duplicated, subLogs.get(i).connected.size(), subLogs.get(i).resumes(), r.gaps.size());
                assertThat(lost).isZero();
                assertThat(duplicated).isZero();
                assertThat(got).as("subscriber %d in order", i).containsExactlyElementsOf(expected);
                assertThat(r.gaps).isEmpty();
                assertThat(r.overlaps).hasValue(0);
            }
            assertThat(completions).as("every future completed exactly once").hasValue(total);
            assertThat(failures).hasValue(0);
            assertThat(stored).as("stored exactly once despite resends").isEqualTo(total);
            assertThat(proxy.totalCut()).as("the proxy really cut connections").isGreaterThan(SUBSCRIBERS);
            assertThat(subLogs.stream().mapToLong(EventLog::resumes).sum()).as("sessions were resumed").isPositive();
        }
    }

    /** Publishes with at most {@link #IN_FLIGHT} unanswered publishes, so that cuts fall in the middle of the work. */
    private static void publishAll(TetherClient client, int publisher, List<CompletableFuture<PublishResult>> futures,
                                   AtomicInteger completions, AtomicInteger failures) {
        Semaphore window = new Semaphore(IN_FLIGHT);
        for (int i = 0; i < PER_PUBLISHER; i++) {
            window.acquireUninterruptibly();
            CompletableFuture<PublishResult> f = client.publish(CHANNEL, Map.of("p", publisher, "i", i));
            f.whenComplete((r, err) -> {
                completions.incrementAndGet();
                if (err != null) {
                    failures.incrementAndGet();
                }
                window.release();
            });
            futures.add(f);
        }
    }
}
