package dev.tether.server.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.testkit.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WarningThrottleTest {
    private final FakeClock clock = new FakeClock();
    private final WarningThrottle throttle = new WarningThrottle(Duration.ofMinutes(1), clock);

    @Test
    void theFirstEventIsReportedAtOnceThenOneReportAPeriodWithEverythingSince() {
        assertThat(throttle.count(1)).isEqualTo(1);
        assertThat(throttle.count(5)).isZero();
        clock.advance(59_000);
        assertThat(throttle.count(2)).isZero();
        clock.advance(1_000);
        assertThat(throttle.count(1)).as("5 + 2 kept, and this one").isEqualTo(8);
        assertThat(throttle.count(1)).isZero();
    }

    @Test
    void nothingCountedIsNeverReportedAndDoesNotStartAPeriod() {
        assertThat(throttle.count(0)).isZero();
        assertThat(throttle.count(3)).isEqualTo(3);
        clock.advance(300_000);
        assertThat(throttle.count(0)).isZero();
        assertThat(throttle.count(1)).isEqualTo(1);
    }

    @Test
    void aPeriodMustBePositive() {
        assertThatThrownBy(() -> new WarningThrottle(Duration.ZERO, clock)).hasMessageContaining("period must be positive");
    }
}
