package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a confirmed subscription continues, and which gap its listener is told about. */
class SubscriptionRecoveryTest {
    private final List<String> calls = new ArrayList<>();
    private final SubscriptionListener recorder = new SubscriptionListener() {
        @Override
        public void onPublication(Publication p) {
            calls.add("pub " + p.offset());
        }

        @Override
        public void onGap(String channel, long from, long to, String reason) {
            calls.add("gap " + from + ".." + to + " " + reason);
        }

        @Override
        public void onSubscribed(SubscribedEvent e) {
            calls.add("subscribed at " + e.position() + (e.recovered() ? "" : " not recovered"));
        }
    };
    private final ClientSubscription sub = new ClientSubscription("chat", recorder, SubscribeOptions.defaults(), null,
            new SerialExecutor(Runnable::run));

    private static StreamPosition at(long offset, String epoch) {
        return new StreamPosition(offset, epoch);
    }

    @Test
    void aLiveSubscriptionStartsAfterTheCurrentOffset() {
        sub.confirmed(at(44, "e-1"), null, null, false);
        assertThat(sub.dedupe.last()).isEqualTo(at(44, "e-1"));
        assertThat(sub.position()).isEqualTo(at(44, "e-1"));
        assertThat(calls).containsExactly("subscribed at 44:e-1");
    }

    @Test
    void aRecoveredSubscriptionContinuesAfterSince() {
        SubscriptionRecovery r = sub.confirmed(at(44, "e-1"), at(41, "e-1"), null, false);
        assertThat(r.recovered()).isTrue();
        assertThat(sub.dedupe.last()).isEqualTo(at(41, "e-1"));
        assertThat(calls).containsExactly("subscribed at 41:e-1");
    }

    @Test
    void aRetentionGapIsReportedAndSkipped() {
        SubscriptionRecovery r = sub.confirmed(at(90, "e-1"), at(41, "e-1"), new Gap(42, 57, Gap.RETENTION), false);
        assertThat(r.gap()).isEqualTo(new Gap(42, 57, Gap.RETENTION));
        assertThat(sub.dedupe.last()).isEqualTo(at(57, "e-1"));
        assertThat(calls).containsExactly("subscribed at 57:e-1 not recovered", "gap 42..57 retention");
    }

    @Test
    void anotherEpochIsAnEpochGapAndStartsLive() {
        SubscriptionRecovery r = sub.confirmed(at(3, "e-2"), at(41, "e-1"), new Gap(-1, -1, Gap.EPOCH), false);
        assertThat(r.recovered()).isFalse();
        assertThat(sub.dedupe.last()).isEqualTo(at(3, "e-2"));
        assertThat(calls).containsExactly("subscribed at 3:e-2 not recovered", "gap -1..-1 epoch");
    }

    @Test
    void anEpochChangeWithoutAGapFieldIsStillAnEpochGap() {
        sub.confirmed(at(3, "e-2"), at(41, "e-1"), null, true);
        assertThat(calls).containsExactly("subscribed at 3:e-2 not recovered", "gap -1..-1 epoch");
    }

    @Test
    void aResumeGapCountsOnlyWhatThisClientHasNotReceived() {
        sub.confirmed(at(90, "e-1"), at(50, "e-1"), new Gap(42, 57, Gap.RETENTION), true);
        assertThat(calls).containsExactly("subscribed at 57:e-1 not recovered", "gap 51..57 retention");
    }

    @Test
    void aResumeGapBelowWhatThisClientHasIsNoGap() {
        SubscriptionRecovery r = sub.confirmed(at(90, "e-1"), at(60, "e-1"), new Gap(42, 57, Gap.RETENTION), true);
        assertThat(r.recovered()).isTrue();
        assertThat(calls).containsExactly("subscribed at 60:e-1");
    }
}
