package dev.tether.bench.tools;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/** What the memory tools read: live heap after full collections, and the JDK's direct buffers. */
final class Memory {
    private Memory() {
    }

    /** Used heap after three full collections, 200 ms apart (for the collector's background work to settle). */
    static long usedHeapAfterGc() throws InterruptedException {
        Runtime r = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return r.totalMemory() - r.freeMemory();
    }

    /** Bytes of direct memory the JDK's {@code ByteBuffer.allocateDirect} has handed out and not freed. */
    static long direct() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b.getMemoryUsed();
            }
        }
        return 0;
    }
}
