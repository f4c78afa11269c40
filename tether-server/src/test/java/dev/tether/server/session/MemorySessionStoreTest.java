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

    /** Sessions ended by the stores these tests make themselves. */
    private final List<String> ended = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A store on {@code clock} that keeps {@code max} sessions and reports every ended one into {@link #ended}. */
    private MemorySessionStore keeping(java.time.Clock clock, int max) {
        MemorySessionStore limited = new MemorySessionStore(clock, max);
        limited.setExpiryListener(st -> ended.add(st.id()));
        return limited;
    }

    private static SessionState session(String id) {
        return new SessionState(id, "c-" + id, "", null, List.of());
    }

    @Test
    void savingBeyondTheLimitEndsTheSessionDetachedLongestAsIfItHadExpired() {
        try (MemorySessionStore limited = keeping(clock, 2)) {
            limited.save(session("a"), Duration.ofMinutes(2));
            limited.save(session("b"), Duration.ofMinutes(2));
            assertThat(ended).isEmpty();
            limited.save(session("c"), Duration.ofMinutes(2));
            assertThat(ended).as("told at once, like an expiry").containsExactly("a");
            assertThat(limited.evicted()).isEqualTo(1);
            assertThat(limited.size()).isEqualTo(2);
            assertThat(limited.take("a")).isNull();
            assertThat(limited.take("b")).isNotNull();
            assertThat(limited.take("c")).isNotNull();
            assertThat(ended).containsExactly("a");
        }
    }

    /** Naming another user's session takes nothing and changes nothing: not its TTL, not its place. */
    @Test
    void anotherUsersTakeLeavesTheSessionExactlyAsItWas() {
        try (MemorySessionStore limited = keeping(clock, 2)) {
            limited.save(new SessionState("a", "c-a", "alice", null, List.of()), Duration.ofSeconds(10));
            limited.save(session("b"), Duration.ofSeconds(10));
            assertThat(limited.takeOwn("a", "bob")).isNull();
            assertThat(limited.size()).isEqualTo(2);
            limited.save(session("c"), Duration.ofSeconds(10));
            assertThat(ended).as("still the oldest: bob's try did not move it").containsExactly("a");
            limited.save(new SessionState("d", "c-d", "alice", null, List.of()), Duration.ofSeconds(10));
            clock.advance(5_000);
            assertThat(limited.takeOwn("d", "bob")).isNull();
            assertThat(limited.takeOwn("d", "alice")).isNotNull();
        }
    }

    @Test
    void aSessionSavedAgainIsTheNewestAndIsEndedLast() {
        try (MemorySessionStore limited = keeping(clock, 2)) {
            limited.save(session("a"), Duration.ofMinutes(2));
            limited.save(session("b"), Duration.ofMinutes(2));
            assertThat(limited.take("a")).isNotNull(); // resumed, then dropped again
            limited.save(session("a"), Duration.ofMinutes(2));
            limited.save(session("c"), Duration.ofMinutes(2));
            assertThat(ended).containsExactly("b");
            assertThat(limited.take("a")).isNotNull();
        }
    }

    @Test
    void aSessionSavedAgainWhileStillKeptMovesToTheNewest() {
        try (MemorySessionStore limited = keeping(clock, 2)) {
            limited.save(session("a"), Duration.ofMinutes(2));
            limited.save(session("b"), Duration.ofMinutes(2));
            limited.save(session("a"), Duration.ofMinutes(2)); // not taken in between
            limited.save(session("c"), Duration.ofMinutes(2));
            assertThat(ended).containsExactly("b");
            assertThat(limited.size()).isEqualTo(2);
        }
    }

    @Test
    void aClockThatStepsBackDoesNotHideExpiredSessionsBehindALaterOne() {
        FakeClock wall = new FakeClock(10_000_000);
        try (MemorySessionStore s = keeping(wall, Integer.MAX_VALUE)) {
            s.save(session("first"), Duration.ofSeconds(60)); // expires at 10,060,000
            wall.advance(-30_000); // the wall clock is set back 30 s
            s.save(session("second"), Duration.ofSeconds(60)); // same TTL, expires at 10,030,000: saved later, due earlier
            wall.advance(60_001);
            assertThat(s.expire()).as("first still due later").isEqualTo(10_060_000);
            assertThat(ended).containsExactly("second");
        }
    }

    @Test
    void withTtlsOfDifferentLengthsEveryExpiredSessionIsFoundNotOnlyTheOldestRun() {
        store.save(session("long"), Duration.ofMinutes(10));
        store.save(session("short"), Duration.ofSeconds(1));
        advanceClock(1_001);
        // the sweep cannot stop at the first session that has not expired, since it is not the earliest
        await().atMost(Duration.ofSeconds(10)).until(() -> expired.contains("short"));
        assertThat(expired).doesNotContain("long");
        assertThat(store.size()).isEqualTo(1);
    }
}
