package dev.tether.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fails a test class if Netty reports a leaked buffer. Installs a recording leak detector
 * before any buffer class loads (surefire runs with paranoid detection), and after the class
 * collects garbage a few times so that unreleased buffers get reported. Best effort: a leak
 * the collector has not yet found shows up in a later class.
 */
final class NoLeaks implements BeforeAllCallback, AfterAllCallback {

    /** Rounds of gc-then-allocate; each round lets the detector drain its reference queue. */
    private static final int GC_ROUNDS = 3;
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> type, int interval, long maxActive) {
                return new ResourceLeakDetector<>(type, interval) {
                    @Override
                    protected boolean needReport() {
                        return true;
                    }

                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType);
                    }
                };
            }
        });
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        // Loading this class installed the detector.
    }

    @Override
    public void afterAll(ExtensionContext context) {
        for (int i = 0; i < GC_ROUNDS; i++) {
            System.gc();
            ByteBuf probe = ByteBufAllocator.DEFAULT.buffer(1);
            probe.release();
        }
        assertThat(LEAKS).as("leaked buffers").isEmpty();
    }
}
