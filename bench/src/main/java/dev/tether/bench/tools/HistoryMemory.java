package dev.tether.bench.tools;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CompletionException;

/**
 * Checks that {@code history-memory} bounds real memory: publishes {@code publications} of
 * {@code bytes} bytes round-robin over {@code channels} channels (history 1000 per channel, 1 hour)
 * into a memory broker limited to {@code limitMiB} as fast as one thread can, reports the most the
 * broker counted on the way (trims leave publications younger than 100 ms, so the total passes the
 * limit by what is appended in that time and while a trim runs), then publishes one more every 100 ms until a trim has brought
 * the total under the limit, and compares heap + direct memory in use after a full collection with
 * what the broker counts and with the limit, e.g.
 * {@code java -Xmx4g -XX:+UseG1GC -cp bench/target/tether-bench.jar dev.tether.bench.tools.HistoryMemory 10000 2000000 128 256}.
 *
 * <p>{@code HistoryMemory keys <channels> <limitMiB>} instead counts how many idempotency keys of
 * 36 characters (UUIDs, as the clients send) fit, round robin over the channels, before a new one is
 * refused because keys fill half the limit.
 */
public final class HistoryMemory {
    private HistoryMemory() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && args[0].equals("keys")) {
            keys(Integer.parseInt(args[1]), Long.parseLong(args[2]) << 20);
            return;
        }
        int channels = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int publications = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        int bytes = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        long limit = (args.length > 3 ? Long.parseLong(args[3]) : 256) << 20;
        Clock clock = Clock.systemUTC();
        byte[] data = new byte[bytes];
        Arrays.fill(data, (byte) '7');
        String[] names = new String[channels];
        for (int i = 0; i < channels; i++) {
            names[i] = "bench:ch-" + i;
        }
        long heap0 = Memory.usedHeapAfterGc();
        long direct0 = Memory.direct();
        MemoryBroker broker = new MemoryBroker(c -> new HistoryPolicy(1000, Duration.ofHours(1)), Duration.ofMinutes(5),
                MemoryBroker.DEFAULT_MAX_KEYS, limit, clock);
        ChannelStream[] streams = new ChannelStream[channels];
        for (int i = 0; i < channels; i++) {
            streams[i] = broker.open(names[i]);
        }
        long max = 0;
        long start = System.nanoTime();
        for (int i = 0; i < publications; i++) {
            streams[i % channels].append(new AppendRequest(data, null, "u", "c-1")).join();
            max = Math.max(max, broker.memoryBytes());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        for (int i = 0; i < 100 && broker.memoryBytes() > limit; i++) {
            Thread.sleep(100); // bounded: 10 s at most
            streams[i % channels].append(new AppendRequest(data, null, "u", "c-1")).join();
        }
        long heap = Memory.usedHeapAfterGc() - heap0;
        long direct = Memory.direct() - direct0;
        System.out.printf("%d channels, %d publications of %d B in %.1f s, limit %d MiB: broker counts %.1f MiB (max seen"
                        + " %.1f), heap + direct in use %.1f + %.1f = %.1f MiB (%.2fx what it counts), %d left history"
                        + " early%n",
                channels, publications, bytes, seconds, limit >> 20, broker.memoryBytes() / 1048576.0, max / 1048576.0,
                heap / 1048576.0, direct / 1048576.0, (heap + direct) / 1048576.0,
                (heap + direct) / (double) broker.memoryBytes(), broker.publicationsEvictedForMemory());
        for (ChannelStream s : streams) {
            s.close();
        }
        broker.close();
    }

    private static void keys(int channels, long limit) {
        MemoryBroker broker = new MemoryBroker(c -> new HistoryPolicy(1, Duration.ofHours(1)), Duration.ofMinutes(5),
                10_000_000, limit, Clock.systemUTC());
        ChannelStream[] streams = new ChannelStream[channels];
        for (int i = 0; i < channels; i++) {
            streams[i] = broker.open("keys:" + i);
        }
        byte[] data = {'1'};
        long n = 0;
        try {
            while (true) {
                streams[(int) (n % channels)].append(new AppendRequest(data, UUID.randomUUID().toString(), "u", "c-1"))
                        .join();
                n++;
            }
        } catch (CompletionException e) {
            System.out.printf("%d channels, limit %d MiB: %d keys of 36 characters before the first refusal, key tables"
                            + " %.1f MiB (%.0f B per key); %s%n", channels, limit >> 20, n,
                    broker.keyMemoryBytes() / 1048576.0, broker.keyMemoryBytes() / (double) n, e.getCause().getMessage());
        } finally {
            for (ChannelStream s : streams) {
                s.close();
            }
            broker.close();
        }
    }
}
