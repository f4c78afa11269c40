package dev.tether.server.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The contract every {@link SessionStore} backend must pass. The test owns the store's clock. */
public abstract class SessionStoreContract {
    protected SessionStore store;
    protected final List<String> expired = new CopyOnWriteArrayList<>();

    protected abstract SessionStore newStore();

    protected abstract void advanceClock(long millis);

    @BeforeEach
    void open() {
        store = newStore();
        store.setExpiryListener(s -> expired.add(s.id()));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static SessionState session(String id) {
        return new SessionState(id, "c-" + id, "alice", null,
                List.of(new SessionState.SubscriptionState("chat:a", 41, "e-1", true, true)));
    }

    @Test
    void savedSessionIsTakenExactlyOnce() {
        store.save(session("s-1"), Duration.ofMinutes(2));
        assertThat(store.size()).isEqualTo(1);
        SessionState s = store.take("s-1");
        assertThat(s).isEqualTo(session("s-1"));
        assertThat(store.take("s-1")).isNull();
        assertThat(store.size()).isZero();
    }

    @Test
    void unknownSessionIsNull() {
        assertThat(store.take("s-nope")).isNull();
    }

    @Test
    void sessionPastItsTtlCannotBeTakenAndIsReportedExpiredOnce() {
        store.save(session("s-2"), Duration.ofSeconds(10));
        advanceClock(10_001);
        await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("s-2") || store.take("s-2") == null);
        assertThat(store.take("s-2")).isNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("s-2"));
        assertThat(expired).containsOnlyOnce("s-2");
    }

    @Test
    void savingAgainRefreshesTheTtl() {
        store.save(session("s-3"), Duration.ofSeconds(10));
        advanceClock(9_000);
        store.save(session("s-3"), Duration.ofSeconds(10));
        advanceClock(9_000);
        assertThat(store.take("s-3")).isNotNull();
    }
}
