package dev.tether.server.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MemorySessionStoreTest extends SessionStoreContract {
    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);

    @Override
    protected SessionStore newStore() {
        return new MemorySessionStore(new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(now.get());
            }
        });
    }

    @Override
    protected void advanceClock(long millis) {
        now.addAndGet(millis);
    }

    @Test
    void sweeperSleepsUntilTheFirstSessionAndStopsWhenNoneIsLeft() {
        MemorySessionStore s = (MemorySessionStore) store;
        assertThat(s.sweepPending()).as("nothing kept, nothing scheduled").isFalse();
        store.save(new SessionState("s-9", "c-9", "", null, List.of()), Duration.ofMillis(500));
        assertThat(s.sweepPending()).isTrue();
        advanceClock(501);
        // reported by the sweep alone, without a take()
        await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("s-9"));
        await().atMost(Duration.ofSeconds(5)).until(() -> !s.sweepPending());
        assertThat(store.size()).isZero();
    }
}
