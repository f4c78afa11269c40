package dev.tether.server.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Broker} backend must pass. A backend's test extends this class and
 * says how to make a broker with the given history size; the test owns the clock.
 */
public abstract class BrokerContract {
    protected static final int HISTORY = 5;
    /** Idempotency keys one channel remembers at once in the contract's brokers. */
    protected static final int KEYS = 3;
    protected Broker broker;
    protected final ConcurrentLinkedQueue<String> appended = new ConcurrentLinkedQueue<>();

    /**
     * A fresh broker keeping {@code historySize} publications per channel, idempotency keys for 5
     * minutes and at most {@link #KEYS} of them per channel.
     */
    protected abstract Broker newBroker(int historySize);

    /** Moves the broker's clock forward. */
    protected abstract void advanceClock(long millis);

    @BeforeEach
    void open() {
        broker = newBroker(HISTORY);
        broker.setListener((channel, top) -> appended.add(channel + "@" + top));
    }

    @AfterEach
    void closeBroker() {
        broker.close();
    }

    protected static AppendRequest req(String data, String key) {
        return new AppendRequest(data.getBytes(StandardCharsets.UTF_8), key, "alice", "c-1");
    }

    @Test
    void appendsGetConsecutiveOffsetsStartingAtOne() {
        try (ChannelStream s = broker.open("chat:a")) {
            assertThat(s.top()).isZero();
            assertThat(s.first()).isEqualTo(1);
            for (int i = 1; i <= 3; i++) {
                AppendResult r = s.append(req("{\"n\":" + i + "}", null)).join();
                assertThat(r.offset()).isEqualTo(i);
                assertThat(r.epoch()).isEqualTo(s.epoch());
                assertThat(r.duplicate()).isFalse();
            }
            assertThat(s.top()).isEqualTo(3);
            assertThat(s.get(2).dataJson()).isEqualTo("{\"n\":2}");
        }
    }

    @Test
    void listenerIsToldAfterThePublicationIsReadable() {
        List<Boolean> readableWhenTold = new ArrayList<>();
        try (ChannelStream s = broker.open("chat:b")) {
            broker.setListener((channel, top) -> readableWhenTold.add(s.get(top) != null && s.top() >= top));
            s.append(req("1", null)).join();
            s.append(req("2", null)).join();
        }
        assertThat(readableWhenTold).containsExactly(true, true);
    }

    @Test
    void channelsAreIndependent() {
        try (ChannelStream a = broker.open("a"); ChannelStream b = broker.open("b")) {
            a.append(req("1", null)).join();
            a.append(req("2", null)).join();
            assertThat(b.append(req("1", null)).join().offset()).isEqualTo(1);
        }
    }

    @Test
    void historyKeepsOnlyTheLastPublicationsAndReportsTheFirstKept() {
        try (ChannelStream s = broker.open("h")) {
            for (int i = 1; i <= HISTORY + 3; i++) {
                s.append(req(Integer.toString(i), null)).join();
            }
            assertThat(s.first()).isEqualTo(4);
            assertThat(s.get(4).dataJson()).isEqualTo("4");
            assertThat(s.read(1, 100)).extracting(Publication::offset).containsExactly(4L, 5L, 6L, 7L, 8L);
            assertThat(s.read(6, 2)).extracting(Publication::offset).containsExactly(6L, 7L);
        }
    }

    @Test
    void publicationsFarOutOfHistoryAreGoneAndNeverConfusedWithOthers() {
        try (ChannelStream s = broker.open("gone")) {
            for (int i = 1; i <= 200; i++) {
                s.append(req(Integer.toString(i), null)).join();
            }
            assertThat(s.get(1)).isNull();
            assertThat(s.get(100)).isNull();
            for (long o = 1; o <= 200; o++) {
                Publication p = s.get(o);
                assertThat(p == null || p.offset() == o).isTrue();
            }
        }
    }

    @Test
    void sameKeyWithinTheWindowIsNotStoredTwice() {
        try (ChannelStream s = broker.open("k")) {
            AppendResult first = s.append(req("1", "key-1")).join();
            s.append(req("2", null)).join();
            AppendResult again = s.append(req("1", "key-1")).join();
            assertThat(again.duplicate()).isTrue();
            assertThat(again.offset()).isEqualTo(first.offset());
            assertThat(s.top()).isEqualTo(2);
        }
    }

    @Test
    void keyIsForgottenAfterTheDedupWindow() {
        try (ChannelStream s = broker.open("k2")) {
            s.append(req("1", "key-1")).join();
            advanceClock(5 * 60_000 + 1);
            AppendResult later = s.append(req("1", "key-1")).join();
            assertThat(later.duplicate()).isFalse();
            assertThat(later.offset()).isEqualTo(2);
        }
    }

    @Test
    void newKeyBeyondTheLimitIsRefusedUntilTheOldestKeyExpires() {
        try (ChannelStream s = broker.open("full")) {
            for (int i = 1; i <= KEYS; i++) {
                s.append(req("1", "key-" + i)).join();
                advanceClock(1_000);
            }
            appended.clear();
            // KEYS keys remembered, the oldest 3 s old: a new key waits for it to expire.
            assertThatThrownBy(() -> s.append(req("new", "key-new")).join())
                    .isInstanceOf(CompletionException.class)
                    .cause()
                    .isInstanceOfSatisfying(KeyLimitException.class,
                            e -> assertThat(e.retryAfterMillis()).isEqualTo(5 * 60_000 - KEYS * 1_000L));
            assertThat(s.top()).as("nothing stored").isEqualTo(KEYS);
            assertThat(appended).as("nobody told").isEmpty();
            // A resend of a remembered key is still answered, and publishes without a key go on.
            AppendResult again = s.append(req("1", "key-2")).join();
            assertThat(again.duplicate()).isTrue();
            assertThat(again.offset()).isEqualTo(2);
            assertThat(s.append(req("plain", null)).join().offset()).isEqualTo(KEYS + 1);
            // Once the oldest key expires there is room for exactly one new key.
            advanceClock(5 * 60_000 - KEYS * 1_000L);
            AppendResult accepted = s.append(req("new", "key-new")).join();
            assertThat(accepted.duplicate()).isFalse();
            assertThat(accepted.offset()).isEqualTo(KEYS + 2);
            assertThatThrownBy(() -> s.append(req("newer", "key-newer")).join())
                    .hasCauseInstanceOf(KeyLimitException.class);
        }
    }

    @Test
    void concurrentAppendsGetDistinctGaplessOffsets() throws Exception {
        int threads = 4;
        int each = 500;
        ConcurrentLinkedQueue<Long> offsets = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        try (ChannelStream s = newBrokerStream("race")) {
            for (int t = 0; t < threads; t++) {
                pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        offsets.add(s.append(req("1", null)).join().offset());
                    }
                    return null;
                });
            }
            go.countDown();
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            assertThat(offsets).hasSize(threads * each).doesNotHaveDuplicates();
            assertThat(offsets.stream().mapToLong(Long::longValue).max().orElse(0)).isEqualTo(threads * each);
            assertThat(s.top()).isEqualTo(threads * each);
        }
    }

    private ChannelStream newBrokerStream(String channel) {
        return broker.open(channel);
    }

    @Test
    void pushIsEncodedOnceWithOffsetDataSenderAndTime() {
        try (ChannelStream s = broker.open("enc")) {
            s.append(req("{\"text\":\"hi \\\"you\\\"\"}", null)).join();
            Publication p = s.get(1);
            String push = p.push().toString(StandardCharsets.UTF_8);
            assertThat(push).startsWith("{\"op\":\"pub\",\"channel\":\"enc\",\"offset\":1,\"data\":{\"text\":\"hi \\\"you\\\"\"}")
                    .contains("\"from\":{\"user\":\"alice\",\"client\":\"c-1\"}")
                    .contains("\"ts\":");
            assertThat(p.push().readableBytes()).isEqualTo(p.pushLength());
        }
    }

    @Test
    void epochIsStableWhileTheChannelLives() {
        try (ChannelStream s = broker.open("ep")) {
            String e = s.epoch();
            s.append(req("1", null)).join();
            try (ChannelStream again = broker.open("ep")) {
                assertThat(again.epoch()).isEqualTo(e);
                assertThat(again.top()).isEqualTo(1);
            }
        }
    }

    @Test
    void channelsListsChannelsWithTheirTopOffset() {
        try (ChannelStream s = broker.open("list:x")) {
            s.append(req("1", null)).join();
        }
        assertThat(broker.channels()).containsEntry("list:x", 1L);
    }
}
