package dev.tether.testkit.leak;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while it ran. Register it for every class
 * with JUnit autodetection (META-INF/services) and route {@code io.netty.util.ResourceLeakDetector}
 * to {@link LeakRecorder} in logback-test.xml, as tether-server and tether-client do. Surefire runs tests with
 * {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer is tracked.
 */
public final class NoLeaks implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) {
        // Leaks are reported when the detector next runs after the leaked object was collected.
        for (int round = 0; round < 3; round++) {
            System.gc();
            for (int i = 0; i < 256; i++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
                b.release();
                ByteBuf h = PooledByteBufAllocator.DEFAULT.heapBuffer(64);
                h.release();
            }
        }
        assertThat(LeakRecorder.LEAKS).as("Netty buffer leaks reported during " + context.getDisplayName()).isEmpty();
    }
}
