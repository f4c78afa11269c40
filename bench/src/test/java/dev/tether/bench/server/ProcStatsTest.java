package dev.tether.bench.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The /proc readings the scenarios report, taken from this test's own process. */
class ProcStatsTest {
    private static final long PID = ProcessHandle.current().pid();
    /** Where the busy loops put their result, so that the JIT cannot drop them. */
    static volatile long sink;

    @Test
    void threadCpuNanosCountsOnlyTheNamedThreadsAndAgreesWithTheJvm() throws Exception {
        var mx = ManagementFactory.getThreadMXBean();
        CountDownLatch busyEnough = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        long[] jvmNanos = new long[1];
        Thread busy = new Thread(() -> {
            long acc = 0;
            // Work until the JVM says this thread used 50 ms of CPU, then hold still.
            while (mx.getCurrentThreadCpuTime() < TimeUnit.MILLISECONDS.toNanos(50)) {
                for (int i = 0; i < 100_000; i++) {
                    acc += i * 31L ^ acc;
                }
            }
            sink = acc;
            jvmNanos[0] = mx.getCurrentThreadCpuTime();
            busyEnough.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "procstat-probe");
        busy.start();
        try {
            assertThat(busyEnough.await(30, TimeUnit.SECONDS)).isTrue();
            // schedstat leaves out a running thread's current slice: read once it is parked.
            await().atMost(Duration.ofSeconds(30)).until(() -> busy.getState() == Thread.State.WAITING);
            long nanos = ProcStats.threadCpuNanos(PID, "procstat-probe");
            // The same thread's run time from two sources; the latch hand-off costs microseconds.
            assertThat(nanos).isBetween(jvmNanos[0] - TimeUnit.MILLISECONDS.toNanos(5),
                    jvmNanos[0] + TimeUnit.MILLISECONDS.toNanos(20));
            assertThat(ProcStats.threadCpuNanos(PID, "no-such-thread-name")).isEqualTo(-1);
        } finally {
            release.countDown();
            busy.join();
        }
    }

    @Test
    void processCpuTicksGrowWithWork() {
        long before = ProcStats.cpuTicks(PID);
        assertThat(before).isPositive();
        long start = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        long acc = 0;
        while (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - start < TimeUnit.MILLISECONDS.toNanos(40)) {
            acc += System.nanoTime() % 7;
        }
        sink = acc;
        // 40 ms of this thread alone is 4 ticks; one may be lost to rounding.
        assertThat(ProcStats.cpuTicks(PID) - before).isGreaterThanOrEqualTo(3);
        assertThat(ProcStats.cpuTicks(-5)).isEqualTo(-1);
    }
}
