package dev.tether.server.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.testkit.FakeClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemorySessionStoreTest extends SessionStoreContract {
    private final FakeClock clock = new FakeClock();

    @Override
    protected SessionStore newStore() {
        return new MemorySessionStore(clock);
    }

    @Override
    protected void advanceClock(long millis) {
        clock.advance(millis);
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
