package dev.tether.server.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import dev.tether.testkit.FakeClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The memory broker's sweeper runs only when a stream has something to expire, and then removes
 * aged-out history from a channel that nobody publishes to any more (appends evict on their own).
 */
class MemoryBrokerSweepTest {
    private final FakeClock clock = new FakeClock();
    private final MemoryBroker broker = new MemoryBroker(ch -> new HistoryPolicy(100, Duration.ofMillis(300)),
            Duration.ofMillis(200), clock);

    @AfterEach
    void close() {
        broker.close();
    }

    private static AppendRequest req(String data) {
        return new AppendRequest(data.getBytes(StandardCharsets.UTF_8), null, "u", "c-1");
    }

    @Test
    void brokerWithNothingToExpireSchedulesNoSweep() {
        assertThat(broker.sweepPending()).isFalse();
        try (ChannelStream s = broker.open("held")) {
            assertThat(s.top()).isZero();
            assertThat(broker.sweepPending()).as("an open, empty channel has no deadline").isFalse();
        }
    }

    @Test
    void historyOlderThanItsAgeLeavesByTheSweepAloneAndTheSweeperThenSleeps() {
        try (ChannelStream s = broker.open("quiet")) {
            s.append(req("1")).join();
            s.append(req("2")).join();
            assertThat(broker.sweepPending()).isTrue();
            assertThat(s.first()).isEqualTo(1);
            clock.advance(301); // both are now older than the 300 ms history age; nothing more is appended
            await().atMost(Duration.ofSeconds(5)).until(() -> s.first() > s.top());
            assertThat(s.get(1)).isNull();
            assertThat(s.get(2)).isNull();
            await().atMost(Duration.ofSeconds(5)).until(() -> !broker.sweepPending());
        }
    }

    @Test
    void rememberedKeysAreCountedAndUncountedByAppendsAndByTheSweep() {
        try (ChannelStream a = broker.open("keys-a"); ChannelStream b = broker.open("keys-b")) {
            a.append(keyed("1", "k-1")).join();
            a.append(keyed("2", "k-2")).join();
            b.append(keyed("3", "k-1")).join();
            a.append(keyed("2", "k-2")).join(); // a duplicate adds no key
            assertThat(broker.rememberedKeys()).isEqualTo(3);
            clock.advance(201); // past the 200 ms dedup window
            a.append(req("4")).join(); // an append expires its own channel's keys first
            assertThat(broker.rememberedKeys()).isEqualTo(1);
            // nobody appends to b again: the sweep expires its key
            await().atMost(Duration.ofSeconds(5)).until(() -> broker.rememberedKeys() == 0);
        }
    }

    private static AppendRequest keyed(String data, String key) {
        return new AppendRequest(data.getBytes(StandardCharsets.UTF_8), key, "u", "c-1");
    }
}
