package dev.tether.server.broker.memory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One channel's idempotency keys, in a few arrays instead of objects.
 *
 * <p>Every key gets the same lifetime (the dedup window), so keys expire in the order they were
 * added: the table is a FIFO ring of entries (hash, offset, expiry, where the key's bytes are)
 * with the keys' UTF-8 bytes in a circular byte arena in the same order, and an open-addressing
 * index (linear probing, backward-shift deletion) from a seeded hash of the key to its entry.
 * A key costs about 30 bytes of entry, 16 of index and its own length, with slack up to twice that
 * while the arrays grow, and no object at all: the garbage collector sees a handful of arrays per
 * channel however many keys it holds, where a map of strings kept four objects per key alive for
 * the whole window, all of which the collector copied and marked.
 *
 * <p>Keys are compared byte for byte, never by hash alone. The hash is seeded per table, so keys
 * cannot be chosen in advance to collide. Not thread-safe: the owning stream's monitor guards it.
 */
final class KeyTable {
    private static final int INITIAL_ENTRIES = 16;
    private static final int INITIAL_ARENA = 1024;

    private final long seed = ThreadLocalRandom.current().nextLong();

    // Entries, FIFO: sequence numbers head <= s < tail live at slot (s & entryMask).
    private int[] hashes;
    private long[] offsets;
    private long[] expires;
    /** Absolute arena position of each key's first byte. */
    private long[] keyAt;
    private short[] keyLength;
    private int entryMask;
    private long head;
    private long tail;

    // Key bytes, FIFO: absolute positions arenaHead <= p < arenaTail live at (p & arenaMask).
    private byte[] arena;
    private int arenaMask;
    private long arenaHead;
    private long arenaTail;

    /** Open addressing: slot + 1 of an entry, 0 = empty; twice as many cells as entry slots. */
    private int[] index;
    private int indexMask;

    KeyTable() {
        allocate(INITIAL_ENTRIES, INITIAL_ARENA);
    }

    int size() {
        return (int) (tail - head);
    }

    /** Bytes of all arrays, for tests and sizing. */
    long footprintBytes() {
        return arena.length + (long) (entryMask + 1) * (4 + 8 + 8 + 8 + 2) + 4L * index.length;
    }

    /** Expiry of the oldest key; only when {@link #size()} > 0. */
    long oldestExpiry() {
        return expires[(int) (head & entryMask)];
    }

    /** UTF-8 bytes of a key, as the table stores and compares them. */
    static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    /** The offset stored under {@code key}, or -1 when the table does not hold it. */
    long find(byte[] key) {
        int slot = slotOf(key, hash(key));
        return slot < 0 ? -1 : offsets[slot];
    }

    /** Adds a key that {@link #find} does not hold; {@code expiresAt} must not precede the newest key's. */
    void add(byte[] key, long offset, long expiresAt) {
        if (key.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("key of " + key.length + " bytes");
        }
        if (size() == entryMask + 1 || arenaTail - arenaHead + key.length > arena.length) {
            grow(key.length);
        }
        int h = hash(key);
        int slot = (int) (tail & entryMask);
        hashes[slot] = h;
        offsets[slot] = offset;
        expires[slot] = expiresAt;
        keyAt[slot] = arenaTail;
        keyLength[slot] = (short) key.length;
        copyIn(key, arenaTail);
        arenaTail += key.length;
        tail++;
        int cell = h & indexMask;
        while (index[cell] != 0) {
            cell = (cell + 1) & indexMask;
        }
        index[cell] = slot + 1;
    }

    /** Removes every key whose expiry is at or before {@code now}, oldest first; returns how many. */
    int expire(long now) {
        int removed = 0;
        while (head < tail && expires[(int) (head & entryMask)] <= now) {
            int slot = (int) (head & entryMask);
            unindex(slot);
            head++;
            arenaHead = head < tail ? keyAt[(int) (head & entryMask)] : arenaTail;
            removed++;
        }
        if (head == tail && entryMask + 1 > INITIAL_ENTRIES) {
            // Emptied after a burst: give the big arrays back.
            allocate(INITIAL_ENTRIES, INITIAL_ARENA);
        }
        return removed;
    }

    private int slotOf(byte[] key, int h) {
        int cell = h & indexMask;
        for (int e = index[cell]; e != 0; e = index[cell]) {
            int slot = e - 1;
            if (hashes[slot] == h && keyLength[slot] == key.length && sameBytes(key, keyAt[slot])) {
                return slot;
            }
            cell = (cell + 1) & indexMask;
        }
        return -1;
    }

    /** Removes an entry's cell and shifts later cells of the same probe run back (no tombstones). */
    private void unindex(int slot) {
        int cell = hashes[slot] & indexMask;
        while (index[cell] != slot + 1) {
            cell = (cell + 1) & indexMask;
        }
        int hole = cell;
        int next = (hole + 1) & indexMask;
        while (index[next] != 0) {
            int home = hashes[index[next] - 1] & indexMask;
            // Move the entry at `next` into the hole unless its home lies cyclically in (hole, next].
            boolean homeAfterHole = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (!homeAfterHole) {
                index[hole] = index[next];
                hole = next;
            }
            next = (next + 1) & indexMask;
        }
        index[hole] = 0;
    }

    private boolean sameBytes(byte[] key, long at) {
        for (int i = 0; i < key.length; i++) {
            if (arena[(int) ((at + i) & arenaMask)] != key[i]) {
                return false;
            }
        }
        return true;
    }

    private void copyIn(byte[] key, long at) {
        int start = (int) (at & arenaMask);
        int first = Math.min(key.length, arena.length - start);
        System.arraycopy(key, 0, arena, start, first);
        System.arraycopy(key, first, arena, 0, key.length - first);
    }

    private int hash(byte[] key) {
        long h = seed ^ key.length;
        for (byte b : key) {
            h = (h ^ (b & 0xff)) * 0x9E3779B97F4A7C15L;
        }
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    /** Doubles whatever is too small for one more key of {@code keyBytes}, keeping every entry. */
    private void grow(int keyBytes) {
        int entries = entryMask + 1;
        if (size() == entries) {
            entries *= 2;
        }
        int arenaSize = arena.length;
        while (arenaTail - arenaHead + keyBytes > arenaSize) {
            arenaSize *= 2;
        }
        int[] oldHashes = hashes;
        long[] oldOffsets = offsets;
        long[] oldExpires = expires;
        long[] oldKeyAt = keyAt;
        short[] oldLength = keyLength;
        int oldMask = entryMask;
        byte[] oldArena = arena;
        int oldArenaMask = arenaMask;
        long from = head;
        long to = tail;
        allocate(entries, arenaSize);
        // Absolute sequence numbers and arena positions stay; only where they land in the arrays moves.
        head = from;
        tail = to;
        arenaHead = from < to ? oldKeyAt[(int) (from & oldMask)] : 0;
        arenaTail = arenaHead;
        for (long s = from; s < to; s++) {
            int o = (int) (s & oldMask);
            int n = (int) (s & entryMask);
            hashes[n] = oldHashes[o];
            offsets[n] = oldOffsets[o];
            expires[n] = oldExpires[o];
            keyAt[n] = oldKeyAt[o];
            keyLength[n] = oldLength[o];
            for (int i = 0; i < oldLength[o]; i++) {
                arena[(int) ((oldKeyAt[o] + i) & arenaMask)] = oldArena[(int) ((oldKeyAt[o] + i) & oldArenaMask)];
            }
            arenaTail = oldKeyAt[o] + oldLength[o];
            int cell = hashes[n] & indexMask;
            while (index[cell] != 0) {
                cell = (cell + 1) & indexMask;
            }
            index[cell] = n + 1;
        }
    }

    private void allocate(int entries, int arenaSize) {
        hashes = new int[entries];
        offsets = new long[entries];
        expires = new long[entries];
        keyAt = new long[entries];
        keyLength = new short[entries];
        entryMask = entries - 1;
        arena = new byte[arenaSize];
        arenaMask = arenaSize - 1;
        index = new int[entries * 2];
        indexMask = entries * 2 - 1;
        head = 0;
        tail = 0;
        arenaHead = 0;
        arenaTail = 0;
    }
}
