package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConnectionWatchdogTest {
    private final FakeScheduler clock = new FakeScheduler();
    private final AtomicInteger attempts = new AtomicInteger();
    /** Delay = 100 ms * (attempt + 1): easy to tell attempts apart. */
    private final Backoff linear = attempt -> Duration.ofMillis(100L * (attempt + 1));
    private final ConnectionWatchdog watchdog = new ConnectionWatchdog(clock, linear, attempts::incrementAndGet);

    @Test
    void manyFailureReportsScheduleOneReconnect() {
        assertThat(watchdog.scheduleReconnect(-1, false)).isEqualTo(100);
        assertThat(watchdog.scheduleReconnect(-1, false)).isEqualTo(-1);
        assertThat(watchdog.scheduleReconnect(5, false)).isEqualTo(-1);
        assertThat(clock.pending()).isOne();
        clock.advance(10_000);
        assertThat(attempts).hasValue(1);
    }

    @Test
    void concurrentFailureReportsScheduleOneReconnect() throws Exception {
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicInteger scheduled = new AtomicInteger();
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int k = 0; k < 1_000; k++) {
                        if (watchdog.scheduleReconnect(-1, false) >= 0) {
                            scheduled.incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
            all.add(t);
            t.start();
        }
        start.countDown();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(scheduled).hasValue(1);
        assertThat(clock.pending()).isOne();
    }

    @Test
    void afterTheAttemptStartsTheNextFailureSchedulesAgainWithLongerBackoff() {
        watchdog.scheduleReconnect(-1, false);
        clock.advance(99);
        assertThat(attempts).hasValue(0);
        clock.advance(1);
        assertThat(attempts).hasValue(1);
        assertThat(watchdog.isPending()).isFalse();
        assertThat(watchdog.scheduleReconnect(-1, false)).isEqualTo(200);
        assertThat(watchdog.scheduleReconnect(-1, false)).as("one is pending already").isEqualTo(-1);
    }

    @Test
    void aConnectionThatLastsRestartsTheBackoff() {
        watchdog.scheduleReconnect(-1, false);
        clock.advance(100);
        watchdog.scheduleReconnect(-1, false);
        clock.advance(200);
        watchdog.connected();
        clock.advance(ConnectionWatchdog.STABLE_MILLIS);
        watchdog.disconnected();
        assertThat(watchdog.scheduleReconnect(-1, false)).isEqualTo(100);
    }

    /** A server that accepts and then closes at once does not get reconnects at the first delay for ever. */
    @Test
    void aConnectionLostAtOnceLetsTheBackoffGrow() {
        watchdog.scheduleReconnect(-1, false);
        clock.advance(100);
        watchdog.scheduleReconnect(-1, false);
        clock.advance(200);
        watchdog.connected();
        clock.advance(ConnectionWatchdog.STABLE_MILLIS - 1);
        watchdog.disconnected();
        clock.advance(1);
        assertThat(watchdog.scheduleReconnect(-1, false)).isEqualTo(300);
    }

    @Test
    void serverRetryAfterReplacesTheBackoffDelay() {
        assertThat(watchdog.scheduleReconnect(2_500, false)).isEqualTo(2_500);
        clock.advance(2_499);
        assertThat(attempts).hasValue(0);
        clock.advance(1);
        assertThat(attempts).hasValue(1);
    }

    @Test
    void overloadedServerGetsTheLongerOfRetryAfterAndBackoff() {
        assertThat(watchdog.scheduleReconnect(50, true)).isEqualTo(100);
        clock.advance(100);
        assertThat(watchdog.scheduleReconnect(5_000, true)).isEqualTo(5_000);
    }

    @Test
    void stoppedWatchdogCancelsThePendingAttemptAndSchedulesNoMore() {
        watchdog.scheduleReconnect(-1, false);
        watchdog.stop();
        clock.advance(10_000);
        assertThat(attempts).hasValue(0);
        assertThat(watchdog.scheduleReconnect(-1, false)).isEqualTo(-1);
    }
}
