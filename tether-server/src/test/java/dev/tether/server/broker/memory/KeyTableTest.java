package dev.tether.server.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyTableTest {
    private final KeyTable table = new KeyTable();

    @Test
    void findsWhatWasAddedAndNothingElse() {
        table.add(KeyTable.bytes("k-1"), 1, 100);
        table.add(KeyTable.bytes("k-2"), 2, 100);
        assertThat(table.find(KeyTable.bytes("k-1"))).isEqualTo(1);
        assertThat(table.find(KeyTable.bytes("k-2"))).isEqualTo(2);
        assertThat(table.find(KeyTable.bytes("k-3"))).isEqualTo(-1);
        assertThat(table.find(KeyTable.bytes("k-"))).isEqualTo(-1);
        assertThat(table.find(KeyTable.bytes(""))).isEqualTo(-1);
        assertThat(table.size()).isEqualTo(2);
    }

    @Test
    void keysExpireOldestFirstAndOnlyAtTheirTime() {
        table.add(KeyTable.bytes("a"), 1, 100);
        table.add(KeyTable.bytes("b"), 2, 200);
        assertThat(table.oldestExpiry()).isEqualTo(100);
        assertThat(table.expire(99)).isZero();
        assertThat(table.expire(100)).isEqualTo(1);
        assertThat(table.find(KeyTable.bytes("a"))).isEqualTo(-1);
        assertThat(table.find(KeyTable.bytes("b"))).isEqualTo(2);
        assertThat(table.oldestExpiry()).isEqualTo(200);
        assertThat(table.expire(1_000)).isEqualTo(1);
        assertThat(table.size()).isZero();
        // an expired key can be added again
        table.add(KeyTable.bytes("a"), 3, 300);
        assertThat(table.find(KeyTable.bytes("a"))).isEqualTo(3);
    }

    @Test
    void keysThatDifferOnlyInUtf8BytesAreDifferentKeys() {
        table.add(KeyTable.bytes("café"), 1, 100);
        table.add(KeyTable.bytes("cafe\u0301"), 2, 100);
        table.add(KeyTable.bytes("\uD83D\uDE00".repeat(64)), 3, 100);
        assertThat(table.find(KeyTable.bytes("café"))).isEqualTo(1);
        assertThat(table.find(KeyTable.bytes("cafe\u0301"))).isEqualTo(2);
        assertThat(table.find(KeyTable.bytes("\uD83D\uDE00".repeat(64)))).isEqualTo(3);
        assertThat(table.find(KeyTable.bytes("\uD83D\uDE00".repeat(63)))).isEqualTo(-1);
    }

    /**
     * Random adds, lookups and expiries against a LinkedHashMap model: the table must agree after
     * every step while it grows, its arena wraps around, probe runs shift back on removal, and it
     * shrinks when emptied. Fixed seeds, so a failure repeats.
     */
    @Test
    void agreesWithAMapModelOverManyRandomOperations() {
        for (long seed = 1; seed <= 4; seed++) {
            differential(new KeyTable(), seed, 60_000);
        }
    }

    private static void differential(KeyTable t, long seed, int steps) {
        Random random = new Random(seed);
        LinkedHashMap<String, long[]> model = new LinkedHashMap<>();
        List<String> recent = new ArrayList<>();
        long now = 0;
        long offset = 0;
        long newest = 0;
        for (int step = 0; step < steps; step++) {
            int op = random.nextInt(100);
            if (op < 55) {
                String key = randomKey(random);
                if (!model.containsKey(key)) {
                    long expiresAt = now + 1 + random.nextInt(3_000);
                    // Expiry follows insertion order (one dedup window for all): never earlier than the newest.
                    expiresAt = Math.max(expiresAt, newest);
                    newest = expiresAt;
                    t.add(KeyTable.bytes(key), ++offset, expiresAt);
                    model.put(key, new long[] {offset, expiresAt});
                    recent.add(key);
                }
            } else if (op < 85) {
                String key = !recent.isEmpty() && random.nextBoolean()
                        ? recent.get(random.nextInt(recent.size())) : randomKey(random);
                long[] expected = model.get(key);
                assertThat(t.find(KeyTable.bytes(key))).as("seed %d step %d key %s", seed, step, key)
                        .isEqualTo(expected == null ? -1 : expected[0]);
            } else {
                now += random.nextInt(op < 99 ? 200 : 5_000);
                int removed = 0;
                for (Iterator<long[]> it = model.values().iterator(); it.hasNext() && it.next()[1] <= now; ) {
                    it.remove();
                    removed++;
                }
                assertThat(t.expire(now)).as("seed %d step %d", seed, step).isEqualTo(removed);
            }
            assertThat(t.size()).isEqualTo(model.size());
            if (!model.isEmpty()) {
                assertThat(t.oldestExpiry()).isEqualTo(model.values().iterator().next()[1]);
            }
            if (recent.size() > 5_000) {
                recent.subList(0, 2_500).clear();
            }
        }
        for (Map.Entry<String, long[]> e : model.entrySet()) {
            assertThat(t.find(KeyTable.bytes(e.getKey()))).isEqualTo(e.getValue()[0]);
        }
    }

    @Test
    void holdsAHundredThousandKeysAndEmptiesCompletely() {
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            table.add(KeyTable.bytes("key-" + i + "-" + "x".repeat(i % 40)), i, 1_000 + i);
        }
        assertThat(table.size()).isEqualTo(n);
        for (int i = 0; i < n; i += 997) {
            assertThat(table.find(KeyTable.bytes("key-" + i + "-" + "x".repeat(i % 40)))).isEqualTo(i);
        }
        assertThat(table.expire(1_000 + n / 2 - 1)).isEqualTo(n / 2);
        assertThat(table.find(KeyTable.bytes("key-0-"))).isEqualTo(-1);
        assertThat(table.find(KeyTable.bytes("key-" + (n - 1) + "-" + "x".repeat((n - 1) % 40)))).isEqualTo(n - 1);
        assertThat(table.expire(Long.MAX_VALUE)).isEqualTo(n / 2);
        assertThat(table.size()).isZero();
        table.add(KeyTable.bytes("after"), 7, 5);
        assertThat(table.find(KeyTable.bytes("after"))).isEqualTo(7);
    }

    @Test
    void aSteadyStreamOfKeysKeepsTheTablesSizeBounded() {
        // About 1,000 keys alive at any time while 200,000 pass through: the arrays must stop
        // growing once they fit the live keys, however far the positions in them have moved.
        long peak = 0;
        for (int i = 0; i < 200_000; i++) {
            table.add(KeyTable.bytes("steady-key-" + i), i, i + 1_000L);
            table.expire(i);
            if (i > 10_000) {
                peak = Math.max(peak, table.footprintBytes());
            }
        }
        assertThat(table.size()).isEqualTo(1_000);
        // 1,000 keys of ~17 bytes: entries 2,048 x 30 B, index 4,096 x 4 B, arena 32 KiB at most.
        assertThat(peak).isLessThanOrEqualTo(2_048 * 30 + 4_096 * 4 + 32_768);
        assertThat(table.footprintBytes()).isEqualTo(peak);
    }

    @Test
    void keysWhoseHashesAllCollideAreStillToldApartByTheirBytes() {
        KeyTable colliding = new KeyTable(k -> 42, KeyTable.MAX_ARENA_BYTES);
        for (int i = 0; i < 300; i++) {
            colliding.add(KeyTable.bytes("k" + i), i, 1_000 + i);
        }
        for (int i = 0; i < 300; i++) {
            assertThat(colliding.find(KeyTable.bytes("k" + i))).isEqualTo(i);
        }
        assertThat(colliding.find(KeyTable.bytes("k300"))).isEqualTo(-1);
        assertThat(colliding.find(KeyTable.bytes("j0"))).as("same length, other bytes").isEqualTo(-1);
        assertThat(colliding.expire(1_149)).isEqualTo(150);
        for (int i = 0; i < 300; i++) {
            assertThat(colliding.find(KeyTable.bytes("k" + i))).isEqualTo(i < 150 ? -1 : i);
        }
    }

    @Test
    void agreesWithTheModelWhenAWeakHashPutsManyKeysInOneRun() {
        // Hash = length: long probe runs, so every removal shifts entries back across the run.
        differential(new KeyTable(k -> k.length, KeyTable.MAX_ARENA_BYTES), 99, 20_000);
    }

    @Test
    void theArenaStopsAtItsLimitInsteadOfGrowing() {
        KeyTable small = new KeyTable(null, 4096);
        byte[] key = new byte[100];
        int added = 0;
        while (small.fits(key.length)) {
            key[0] = (byte) added;
            key[1] = (byte) (added >> 8);
            small.add(key.clone(), added, 1_000 + added);
            added++;
        }
        assertThat(added).isEqualTo(40);
        assertThatThrownBy(() -> small.add(new byte[100], 99, 5_000)).isInstanceOf(IllegalStateException.class);
        assertThat(small.expire(1_000)).isEqualTo(1);
        assertThat(small.fits(100)).isTrue();
    }

    @Test
    void theArraysShrinkAgainAfterABurst() {
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            table.add(KeyTable.bytes("burst-key-" + i), i, i);
        }
        long big = table.footprintBytes();
        assertThat(table.expire(n - 11)).isEqualTo(n - 10);
        assertThat(table.size()).isEqualTo(10);
        assertThat(table.footprintBytes()).isLessThan(big / 100);
        for (int i = n - 10; i < n; i++) {
            assertThat(table.find(KeyTable.bytes("burst-key-" + i))).isEqualTo(i);
        }
    }

    /** 1 to 128 chars, sometimes multi-byte, from a small alphabet so that keys repeat. */
    private static String randomKey(Random random) {
        int length = random.nextInt(10) == 0 ? 1 + random.nextInt(128) : 1 + random.nextInt(6);
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int r = random.nextInt(20);
            b.append(r < 16 ? (char) ('a' + r) : r < 19 ? 'é' : '€');
        }
        return b.toString();
    }
}
