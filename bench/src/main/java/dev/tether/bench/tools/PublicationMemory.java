package dev.tether.bench.tools;

import dev.tether.server.broker.Publication;
import dev.tether.server.broker.Slab;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Heap and direct memory per stored publication: {@code n} publications of {@code bytes} bytes of data,
 * each in a block of its own (as a quiet channel stores them) or carved one after another from
 * blocks of {@code blockKiB} (as a busy channel does), measured after full collections, e.g.
 * {@code java -Xmx2g -XX:+UseG1GC -Xmn16m -cp bench/target/tether-bench.jar dev.tether.bench.tools.PublicationMemory 200000 128 16}.
 */
public final class PublicationMemory {
    private PublicationMemory() {
    }

    public static void main(String[] args) throws InterruptedException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int bytes = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int blockKiB = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        byte[] data = new byte[bytes];
        Arrays.fill(data, (byte) '7');
        measure("a block each", n, data, null);
        measure("blocks of " + blockKiB + " KiB", n, data, blockKiB << 10);
    }

    private static void measure(String how, int n, byte[] data, Integer blockBytes) throws InterruptedException {
        List<Publication> kept = new ArrayList<>(n);
        Slab[] current = {null};
        long heap0 = Memory.usedHeapAfterGc();
        long direct0 = Memory.direct();
        for (int i = 0; i < n; i++) {
            long offset = 1_000_000L + i;
            if (blockBytes == null) {
                kept.add(new Publication("chat:room-1", offset, 1_763_800_000_000L + i, data, "user-1", "c-abcdef"));
            } else {
                kept.add(new Publication("chat:room-1", offset, 1_763_800_000_000L + i, data, "user-1", "c-abcdef",
                        length -> {
                            if (current[0] == null || current[0].remaining() < length) {
                                current[0] = Slab.allocate(blockBytes);
                            }
                            return current[0];
                        }));
            }
        }
        long heap = Memory.usedHeapAfterGc() - heap0;
        long direct = Memory.direct() - direct0;
        System.out.printf("%s: %d publications of %d B of data (frame %d B): heap %.1f B each (4 B of it the list's"
                        + " slot), direct %.1f B each%n", how, n, data.length, kept.get(0).frameBytes(), heap / (double) n,
                direct / (double) n);
    }
}
