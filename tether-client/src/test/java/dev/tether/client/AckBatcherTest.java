package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AckBatcherTest {
    private final AckBatcher acks = new AckBatcher();

    private static StreamPosition at(long offset) {
        return new StreamPosition(offset, "e-1");
    }

    @Test
    void asksForAnEarlyFlushOnceHalfTheWindowIsHandled() {
        acks.window(8);
        assertThat(acks.handled()).isFalse();
        assertThat(acks.handled()).isFalse();
        assertThat(acks.handled()).isFalse();
        assertThat(acks.handled()).as("4 = window/2").isTrue();
        assertThat(acks.handled()).as("already asked").isFalse();
        assertThat(acks.due(at(5), "e-1")).isEqualTo(at(5));
        for (int i = 0; i < 3; i++) {
            assertThat(acks.handled()).isFalse();
        }
        assertThat(acks.handled()).as("the count starts again after an ack").isTrue();
    }

    @Test
    void theTickAcksWhateverWasHandledSinceTheLastAck() {
        acks.sent(at(10));
        assertThat(acks.due(at(10), "e-1")).as("nothing new").isNull();
        acks.handled();
        assertThat(acks.due(at(11), "e-1")).isEqualTo(at(11));
        assertThat(acks.due(at(11), "e-1")).as("acked already").isNull();
    }

    @Test
    void neverAcksBelowWhatWasAckedAfterSubscribing() {
        acks.sent(at(40));
        assertThat(acks.due(at(35), "e-1")).isNull();
        assertThat(acks.due(at(41), "e-1")).isEqualTo(at(41));
    }

    @Test
    void neverAcksAPositionOfAnotherEpoch() {
        acks.sent(new StreamPosition(2, "e-new"));
        assertThat(acks.due(new StreamPosition(900, "e-old"), "e-new")).isNull();
        assertThat(acks.due(new StreamPosition(3, "e-new"), "e-new")).isEqualTo(new StreamPosition(3, "e-new"));
    }

    @Test
    void nothingHandledNothingDue() {
        assertThat(acks.due(null, "e-1")).isNull();
    }
}
