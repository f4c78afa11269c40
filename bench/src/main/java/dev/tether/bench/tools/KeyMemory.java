package dev.tether.bench.tools;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

/**
 * Heap per remembered idempotency key: one channel (history of 1, so publications do not count)
 * takes {@code n} keyed publishes with 36-character keys (UUIDs, as clients send), and the used
 * heap after a full collection is compared with before. Run with a fixed heap, e.g.
 * {@code java -Xmx2g -XX:+UseG1GC -cp bench/target/tether-bench.jar dev.tether.bench.tools.KeyMemory 900000}.
 * Uses only the memory broker's public constructor, so the same class measures older builds too.
 */
public final class KeyMemory {
    private KeyMemory() {
    }

    public static void main(String[] args) throws InterruptedException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 900_000;
        MemoryBroker broker = new MemoryBroker(c -> new HistoryPolicy(1, Duration.ofHours(1)), Duration.ofMinutes(5),
                Clock.systemUTC());
        byte[] data = "1".getBytes(StandardCharsets.UTF_8);
        try (ChannelStream s = broker.open("keys")) {
            for (int i = 0; i < 1_000; i++) {
                s.append(new AppendRequest(data, "warm-up-" + i, "u", "c")).join();
            }
            long before = Memory.usedHeapAfterGc();
            for (int i = 0; i < n; i++) {
                s.append(new AppendRequest(data, UUID.randomUUID().toString(), "u", "c")).join();
            }
            long after = Memory.usedHeapAfterGc();
            System.out.printf("%d keys of 36 characters: %.0f B of heap per key%n", n, (after - before) / (double) n);
        } finally {
            broker.close();
        }
    }
}
