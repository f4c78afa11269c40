package dev.tether.server.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.KeyLimitException;
import dev.tether.server.broker.Publication;
import dev.tether.server.broker.Slab;
import dev.tether.server.config.MemoryLimit;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import dev.tether.testkit.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code history-memory}: what the memory broker counts, and how it gets back under the limit
 * (empty channels first, then the oldest publications of any channel, never the youngest 100 ms,
 * never an idempotency key).
 */
class MemoryBrokerMemoryTest {
    private static final long LIMIT = 256 << 10;
    private static final byte[] KIB = data(1024);

    private final FakeClock clock = new FakeClock();
    private final List<MemoryBroker> brokers = new ArrayList<>();

    @AfterEach
    void close() {
        brokers.forEach(MemoryBroker::close);
    }

    private MemoryBroker broker(long limit, HistoryPolicy history) {
        MemoryBroker b = new MemoryBroker(ch -> history, Duration.ofMinutes(5), 1_000_000, limit, clock);
        brokers.add(b);
        return b;
    }

    private static byte[] data(int length) {
        byte[] d = new byte[length];
        Arrays.fill(d, (byte) '7');
        return d;
    }

    private static AppendRequest req(byte[] data) {
        return new AppendRequest(data, null, "u", "c-1");
    }

    /** The stream's count equals the count recomputed from what it holds, and the broker's total agrees. */
    private static void assertCounted(MemoryBroker b, String... channels) {
        long sum = 0;
        for (String c : channels) {
            assertThat(b.accountedBytes(c)).as("what %s counts", c).isEqualTo(b.recountedBytes(c));
            sum += b.accountedBytes(c);
        }
        assertThat(b.memoryBytes()).isEqualTo(sum);
    }

    @Test
    void everyByteCountedIsGivenBackWhenHistoryAgesOutAndTheChannelIsReleased() {
        MemoryBroker b = broker(Long.MAX_VALUE, new HistoryPolicy(4, Duration.ofSeconds(10)));
        assertThat(b.memoryBytes()).isZero();
        long empty;
        try (ChannelStream s = b.open("chat:a")) {
            empty = b.memoryBytes();
            assertThat(empty).isEqualTo(MemoryStream.CHANNEL_BYTES + 40 + "chat:a".length() + 16 + 4 * 16);
            s.append(req(KIB)).join();
            Publication one = s.get(1);
            assertThat(one.slab().capacity()).as("a first publication gets a block of its own size").isEqualTo(one.frameBytes());
            assertThat(b.memoryBytes()).isEqualTo(empty + Publication.HEAP_BYTES + one.frameBytes() + Slab.HEAP_BYTES);
            // Past the history size of 4 the 16-slot ring overwrites: the total is what its slots hold,
            // the 4 in history and the 12 below first that it still serves, and their blocks.
            for (int i = 0; i < 20; i++) {
                s.append(req(KIB)).join();
            }
            assertThat(s.first()).isEqualTo(18);
            assertThat(s.get(5)).isNull();
            assertThat(s.get(21).slab()).as("appended together: they share blocks").isSameAs(s.get(20).slab());
            assertCounted(b, "chat:a");
        }
        clock.advance(10_001);
        b.sweep(); // the sweeper thread would, 10 s from now in real time
        assertThat(b.memoryBytes()).isEqualTo(empty);
        clock.advance(Duration.ofMinutes(11).toMillis());
        b.sweep();
        assertThat(b.channels()).isEmpty();
        assertThat(b.memoryBytes()).isZero();
    }

    @Test
    void aBusyChannelSharesBlocksThatDoubleAndAQuietOneGetsABlockPerPublication() {
        MemoryBroker b = broker(Long.MAX_VALUE, new HistoryPolicy(1000, Duration.ofHours(1)));
        try (ChannelStream busy = b.open("busy"); ChannelStream quiet = b.open("quiet")) {
            byte[] small = data(100);
            for (int i = 0; i < 400; i++) {
                busy.append(req(small)).join(); // all within the same millisecond
            }
            List<Integer> sizes = new ArrayList<>();
            Slab last = null;
            for (long o = 1; o <= 400; o++) {
                Slab s = busy.get(o).slab();
                if (s != last) {
                    sizes.add(s.capacity());
                    last = s;
                }
            }
            int frame = busy.get(1).frameBytes();
            assertThat(sizes.get(0)).isEqualTo(frame);
            assertThat(sizes.get(1)).isEqualTo(2 * frame);
            assertThat(sizes.get(2)).isEqualTo(4 * frame);
            assertThat(sizes).as("never above the largest block").allMatch(c -> c <= MemoryStream.MAX_SLAB)
                    .contains(MemoryStream.MAX_SLAB);
            for (int i = 0; i < 3; i++) {
                clock.advance(MemoryStream.SLAB_GROWTH_MILLIS + 1);
                quiet.append(req(small)).join();
            }
            for (long o = 1; o <= 3; o++) {
                assertThat(quiet.get(o).slab().capacity()).as("a block of its own, exactly its size")
                        .isEqualTo(quiet.get(o).frameBytes());
            }
            // A frame over the largest carved one gets its own block, and the busy block goes on after it.
            busy.append(req(data(MemoryStream.MAX_CARVED_FRAME + 10))).join();
            busy.append(req(small)).join();
            assertThat(busy.get(401).slab().capacity()).isEqualTo(busy.get(401).frameBytes());
            assertThat(busy.get(402).slab()).isNotSameAs(busy.get(401).slab());
            assertCounted(b, "busy", "quiet");
        }
    }

    @Test
    void keysAreCountedAndGivenBackAsTheyExpire() {
        MemoryBroker b = broker(Long.MAX_VALUE, new HistoryPolicy(1, Duration.ofHours(1)));
        try (ChannelStream s = b.open("keys")) {
            long before = b.memoryBytes();
            for (int i = 0; i < 100; i++) {
                s.append(new AppendRequest(KIB, "key-" + i, "u", "c-1")).join();
            }
            assertThat(b.keyMemoryBytes()).isPositive();
            assertCounted(b, "keys");
            clock.advance(Duration.ofMinutes(5).toMillis() + 1);
            s.append(req(KIB)).join(); // expires the keys
            assertThat(b.keyMemoryBytes()).isZero();
            // What is left: the channel, the 16 publications its ring holds (history size 1), their blocks.
            assertCounted(b, "keys");
            assertThat(b.memoryBytes()).isGreaterThan(before);
        }
    }

    @Test
    void overTheLimitTheOldestPublicationsOfAnyChannelLeaveFirst() {
        MemoryBroker b = broker(LIMIT, new HistoryPolicy(1000, Duration.ofHours(1)));
        ChannelStream[] rr = {b.open("a"), b.open("b"), b.open("c")};
        try (ChannelStream young = b.open("young")) {
            // 150 publications of ~1.5 KB, 1 ms apart, round robin over three channels: ~225 KB.
            for (int i = 0; i < 150; i++) {
                clock.advance(1);
                rr[i % 3].append(req(KIB)).join();
            }
            assertThat(b.memoryBytes()).isLessThan(LIMIT);
            clock.advance(1_000);
            // 40 more in "young" take the total to ~285 KB; trims bring it back to 90 % of 256 KiB.
            for (int i = 0; i < 40; i++) {
                young.append(req(KIB)).join();
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(b.memoryBytes()).isLessThanOrEqualTo(LIMIT);
                long evicted = 0;
                for (ChannelStream s : rr) {
                    evicted += s.first() - 1;
                }
                assertThat(b.publicationsEvictedForMemory()).isPositive().isEqualTo(evicted);
            });
            // What left is the oldest of all three together: their firsts are at most one apart.
            assertThat(rr[0].first()).isGreaterThan(1);
            for (ChannelStream s : rr) {
                assertThat(s.first()).as(s.channel()).isBetween(rr[0].first() - 1, rr[0].first() + 1);
                assertThat(s.get(s.first() - 1)).isNull();
                assertThat(s.get(s.first())).isNotNull();
            }
            assertThat(young.first()).as("younger than 100 ms: untouched").isEqualTo(1);
            assertCounted(b, "a", "b", "c", "young");
        } finally {
            for (ChannelStream s : rr) {
                s.close();
            }
        }
    }

    @Test
    void publicationsThatLeftHistoryBySizeGoFirstButNotWhileYoung() {
        MemoryBroker b = broker(Long.MAX_VALUE, new HistoryPolicy(4, Duration.ofHours(1)));
        try (ChannelStream s = b.open("grace")) {
            MemoryStream m = (MemoryStream) s;
            long t0 = clock.millis();
            for (int i = 0; i < 16; i++) {
                clock.advance(1);
                s.append(req(KIB)).join(); // offset i + 1 at t0 + i + 1
            }
            // History is 13..16; the 16-slot ring still holds 1..12 for subscribers a moment behind.
            assertThat(s.first()).isEqualTo(13);
            assertThat(m.oldestTimestamp()).isEqualTo(t0 + 1);
            long before = b.memoryBytes();
            // Up to t0 + 6: offsets 1..6 go; 7..12 are newer and stay, and so does history behind them.
            long freed = m.trimForMemory(t0 + 6, Long.MAX_VALUE);
            assertThat(freed).isGreaterThanOrEqualTo(6L * Publication.HEAP_BYTES);
            assertThat(b.memoryBytes()).isEqualTo(before - freed);
            assertCounted(b, "grace");
            assertThat(s.get(6)).isNull();
            assertThat(s.get(7)).isNotNull();
            assertThat(s.first()).isEqualTo(13);
            assertThat(m.oldestTimestamp()).isEqualTo(t0 + 7);
            assertThat(b.publicationsEvictedForMemory()).as("those had already left history").isZero();
            // Up to t0 + 14: the rest below first, then history up to offset 14.
            m.trimForMemory(t0 + 14, Long.MAX_VALUE);
            assertThat(s.first()).isEqualTo(15);
            assertThat(s.get(12)).isNull();
            assertThat(b.publicationsEvictedForMemory()).isEqualTo(2);
            assertCounted(b, "grace");
        }
    }

    @Test
    void publicationsYoungerThanTheTrimAgeAreNeverTrimmedAndWaitForTheNextAppend() {
        MemoryBroker b = broker(LIMIT, new HistoryPolicy(1000, Duration.ofHours(1)));
        try (ChannelStream s = b.open("burst")) {
            for (int i = 0; i < 300; i++) {
                s.append(req(KIB)).join();
            }
            assertThat(b.memoryBytes()).isGreaterThan(LIMIT);
            b.sweep(); // a trim now finds nothing old enough
            assertThat(s.first()).isEqualTo(1);
            assertThat(b.publicationsEvictedForMemory()).isZero();
            assertThat(b.trimNotBefore()).as("the next trim once they are old enough")
                    .isEqualTo(clock.millis() + MemoryBroker.MIN_TRIM_AGE_MILLIS);
            clock.advance(MemoryBroker.MIN_TRIM_AGE_MILLIS + MemoryBroker.MIN_SWEEP_GAP_MILLIS);
            s.append(req(KIB)).join();
            await().atMost(Duration.ofSeconds(5)).until(() -> b.memoryBytes() <= LIMIT - LIMIT / 10);
            assertThat(s.first()).isGreaterThan(1);
            assertThat(s.get(301)).as("the newest publication stays").isNotNull();
        }
    }

    @Test
    void channelsHoldingNothingButThemselvesAreDroppedBeforeAnyPublication() {
        MemoryBroker b = broker(LIMIT, new HistoryPolicy(1000, Duration.ofHours(1)));
        for (int i = 0; i < 400; i++) {
            b.open("empty-" + i).close(); // ~330 B each, kept for the 10-minute idle release
        }
        assertThat(b.memoryBytes()).isGreaterThan(100_000);
        try (ChannelStream s = b.open("kept")) {
            for (int i = 0; i < 60; i++) {
                s.append(req(KIB)).join();
            }
            assertThat(b.memoryBytes()).isLessThan(LIMIT);
            // Old enough to trim now, but dropping the empty channels is enough.
            clock.advance(2_000);
            for (int i = 0; i < 40; i++) {
                s.append(req(KIB)).join();
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(b.channelsReleasedForMemory()).isEqualTo(400);
                assertThat(b.channels()).containsOnlyKeys("kept");
            });
            assertThat(s.first()).isEqualTo(1);
            assertThat(b.publicationsEvictedForMemory()).isZero();
            assertCounted(b, "kept");
        }
    }

    /**
     * Channels created by reads alone (history or presence of unknown names) count at once: the
     * limit is enforced without waiting for an append or the next periodic sweep.
     */
    @Test
    void channelsCreatedByReadsAloneAreTrimmedWithoutAnyAppend() {
        MemoryBroker b = broker(LIMIT, new HistoryPolicy(1000, Duration.ofHours(1)));
        int n = (int) (LIMIT / 200);
        for (int i = 0; i < n; i++) {
            b.open("read-" + i).close();
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(b.channelsReleasedForMemory()).isPositive();
            assertThat(b.memoryBytes()).isLessThanOrEqualTo(LIMIT);
        });
        assertThat(b.publicationsEvictedForMemory()).isZero();
    }

    @Test
    void whenHeldChannelsAloneTakeMoreThanTheLimitTrimsDoNotComeEvery100Milliseconds() {
        MemoryBroker b = broker(MemoryLimit.MIN_BYTES, new HistoryPolicy(1000, Duration.ofHours(1)));
        List<ChannelStream> held = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                held.add(b.open("held-" + i)); // ~330 B each: ~100 KB, more than the 64 KiB limit
            }
            held.get(0).append(req(KIB)).join();
            clock.advance(1_000);
            held.get(1).append(req(KIB)).join(); // young
            b.sweep();
            assertThat(held.get(0).first()).as("the old publication went").isEqualTo(2);
            assertThat(held.get(1).first()).as("the young one stays").isEqualTo(1);
            assertThat(b.trimNotBefore()).isEqualTo(clock.millis() + MemoryBroker.MIN_SWEEP_GAP_MILLIS);
            assertThat(b.memoryBytes()).isGreaterThan(MemoryLimit.MIN_BYTES);
        } finally {
            held.forEach(ChannelStream::close);
        }
    }

    @Test
    void keysMayFillHalfTheLimitThenANewKeyIsRefusedAndPlainPublishesGoOn() {
        MemoryBroker b = broker(LIMIT, new HistoryPolicy(1, Duration.ofHours(1)));
        try (ChannelStream s = b.open("keyed")) {
            String longKey = "k".repeat(900);
            int stored = 0;
            KeyLimitException refused = null;
            for (int i = 0; i < 1_000 && refused == null; i++) {
                try {
                    s.append(new AppendRequest(KIB, longKey + i, "u", "c-1")).join();
                    stored++;
                } catch (CompletionException e) {
                    refused = (KeyLimitException) e.getCause();
                }
            }
            assertThat(refused).as("a new key is refused once keys fill half the limit").isNotNull();
            assertThat(refused).hasMessageContaining("fill half of history-memory (" + LIMIT + " bytes)");
            assertThat(refused.retryAfterMillis()).isPositive();
            assertThat(b.keyMemoryBytes()).isGreaterThanOrEqualTo(LIMIT / 2);
            assertThat(stored).isPositive();
            // A resend of a remembered key is still answered, and publishes without a key go on.
            assertThat(s.append(new AppendRequest(KIB, longKey + 0, "u", "c-1")).join().duplicate()).isTrue();
            long top = s.top();
            assertThat(s.append(req(KIB)).join().offset()).isEqualTo(top + 1);
            assertThatThrownBy(() -> s.append(new AppendRequest(KIB, "another", "u", "c-1")).join())
                    .hasCauseInstanceOf(KeyLimitException.class);
            // Once the keys expire there is room again.
            clock.advance(Duration.ofMinutes(5).toMillis() + 1);
            assertThat(s.append(new AppendRequest(KIB, "another", "u", "c-1")).join().duplicate()).isFalse();
        }
    }
}
