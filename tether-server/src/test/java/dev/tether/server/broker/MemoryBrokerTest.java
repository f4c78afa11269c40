package dev.tether.server.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import dev.tether.testkit.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MemoryBrokerTest extends BrokerContract {
    private final FakeClock clock = new FakeClock();

    @Override
    protected Broker newBroker(int historySize) {
        return new MemoryBroker(channel -> new HistoryPolicy(channel.startsWith("short:") ? 2 : historySize,
                Duration.ofMinutes(60)), Duration.ofMinutes(5), KEYS, clock);
    }

    @Override
    protected void advanceClock(long millis) {
        clock.advance(millis);
    }

    @Test
    void publicationsOlderThanTheHistoryAgeLeaveHistory() {
        try (ChannelStream s = broker.open("age")) {
            s.append(req("1", null)).join();
            advanceClock(30 * 60_000);
            s.append(req("2", null)).join();
            advanceClock(31 * 60_000);
            s.append(req("3", null)).join();
            assertThat(s.first()).isEqualTo(2);
            assertThat(s.get(1)).isNull();
            assertThat(s.read(1, 10)).extracting(Publication::offset).containsExactly(2L, 3L);
        }
    }

    @Test
    void historySizeFollowsTheChannelsNamespacePolicy() {
        try (ChannelStream s = broker.open("short:x")) {
            for (int i = 0; i < 4; i++) {
                s.append(req("1", null)).join();
            }
            assertThat(s.first()).isEqualTo(3);
        }
    }

    @Test
    void ringGrowsPastItsInitialSizeWithoutLosingOrder() {
        broker.close();
        broker = newBroker(1000);
        try (ChannelStream s = broker.open("big")) {
            for (int i = 1; i <= 1500; i++) {
                s.append(req(Integer.toString(i), null)).join();
            }
            assertThat(s.first()).isEqualTo(501);
            for (long o = 501; o <= 1500; o++) {
                assertThat(s.get(o).dataJson()).isEqualTo(Long.toString(o));
            }
        }
    }
}
