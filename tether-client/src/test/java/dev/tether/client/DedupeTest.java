package dev.tether.client;

import static dev.tether.client.Dedupe.Verdict.DELIVER;
import static dev.tether.client.Dedupe.Verdict.DUPLICATE;
import static dev.tether.client.Dedupe.Verdict.HOLE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DedupeTest {
    private final Dedupe dedupe = new Dedupe();

    @Test
    void nothingPassesBeforeTheSubscriptionIsConfirmed() {
        assertThat(dedupe.offer(1)).isEqualTo(HOLE);
        assertThat(dedupe.last()).isNull();
    }

    @Test
    void deliversConsecutiveOffsetsAndRemembersTheLast() {
        dedupe.reset(new StreamPosition(41, "e-1"));
        assertThat(dedupe.offer(42)).isEqualTo(DELIVER);
        assertThat(dedupe.offer(43)).isEqualTo(DELIVER);
        assertThat(dedupe.last()).isEqualTo(new StreamPosition(43, "e-1"));
    }

    @Test
    void dropsAReplayAtOrBelowTheLastDelivered() {
        dedupe.reset(new StreamPosition(10, "e-1"));
        assertThat(dedupe.offer(11)).isEqualTo(DELIVER);
        assertThat(dedupe.offer(5)).isEqualTo(DUPLICATE);
        assertThat(dedupe.offer(10)).isEqualTo(DUPLICATE);
        assertThat(dedupe.offer(11)).isEqualTo(DUPLICATE);
        assertThat(dedupe.offer(12)).isEqualTo(DELIVER);
        assertThat(dedupe.last().offset()).isEqualTo(12);
    }

    @Test
    void reportsAHoleWithoutMovingOn() {
        dedupe.reset(new StreamPosition(3, "e-1"));
        assertThat(dedupe.offer(5)).isEqualTo(HOLE);
        assertThat(dedupe.last()).isEqualTo(new StreamPosition(3, "e-1"));
        assertThat(dedupe.offer(4)).isEqualTo(DELIVER);
    }

    @Test
    void aResetToANewEpochStartsOver() {
        dedupe.reset(new StreamPosition(500, "e-old"));
        dedupe.reset(new StreamPosition(2, "e-new"));
        assertThat(dedupe.offer(3)).isEqualTo(DELIVER);
        assertThat(dedupe.last()).isEqualTo(new StreamPosition(3, "e-new"));
    }
}
