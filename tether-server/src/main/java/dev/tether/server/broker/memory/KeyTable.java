package dev.tether.server.broker.memory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToIntFunction;

/**
 * One channel's idempotency keys, in a few arrays instead of objects.
 *
 * <p>Every key gets the same lifetime (the dedup window), so keys expire in the order they were
 * added: the table is a FIFO ring of entries (hash, offset, expiry, where the key's bytes are)
 * with the keys' UTF-8 bytes in a circular byte arena in the same order, and an open-addressing
 * index (linear probing, backward-shift deletion) from a seeded hash of the key to its entry.
 * A key costs 30 bytes of entry, 8 of index and its own UTF-8 length, up to twice that while the
 * arrays are between sizes, and no object at all: the garbage collector sees a handful of arrays
 * per channel however many keys it holds, where a map of strings kept four objects per key alive
 * for the whole window, all of which the collector copied and marked. The arrays grow by doubling
 * and shrink again once at most an eighth of them is in use.
 *
 * <p>Keys are compared byte for byte, never by hash alone. The hash is seeded per table, so keys
 * cannot be chosen in advance to collide. Not thread-safe: the owning stream's monitor guards it.
 */
final class KeyTable {
    /** The arena's largest size (the largest power of two an array can have). */
    static final int MAX_ARENA_BYTES = 1 << 30;
    private static final int INITIAL_ENTRIES = 16;
    private static final int INITIAL_ARENA = 1024;

    private final long seed = ThreadLocalRandom.current().nextLong();
    /** Tests only: replaces the hash (for example by a constant, to make every key collide). */
    private final ToIntFunction<byte[]> hashForTests;
    private final int maxArenaBytes;

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
        this(null, MAX_ARENA_BYTES);
    }

    /** Tests: a replacement hash (null = the seeded one) and a smaller arena limit (a power of two). */
    KeyTable(ToIntFunction<byte[]> hashForTests, int maxArenaBytes) {
        if (Integer.bitCount(maxArenaBytes) != 1 || maxArenaBytes < INITIAL_ARENA) {
            throw new IllegalArgumentException("arena limit must be a power of two >= " + INITIAL_ARENA);
        }
        this.hashForTests = hashForTests;
        this.maxArenaBytes = maxArenaBytes;
        rebuild(INITIAL_ENTRIES, INITIAL_ARENA);
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

    /** Whether the arena has room for one more key of {@code keyBytes} (it never grows past its limit). */
    boolean fits(int keyBytes) {
        return keyBytes <= Short.MAX_VALUE && arenaTail - arenaHead + keyBytes <= maxArenaBytes;
    }

    /**
     * Adds a key that {@link #find} does not hold and that {@link #fits}; {@code expiresAt} must
     * not precede the newest key's. Either the key is added or, when memory runs out while the
     * arrays grow, the table is left exactly as it was.
     */
    void add(byte[] key, long offset, long expiresAt) {
        if (!fits(key.length)) {
            throw new IllegalStateException("no room for a key of " + key.length + " bytes");
        }
        long arenaNeeded = arenaTail - arenaHead + key.length;
        if (size() == entryMask + 1 || arenaNeeded > arena.length) {
            int entries = size() == entryMask + 1 ? (entryMask + 1) * 2 : entryMask + 1;
            rebuild(entries, (int) Math.min(maxArenaBytes, powerOfTwoAtLeast(arenaNeeded, arena.length)));
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
        if (removed > 0) {
            shrinkIfSparse();
        }
        return removed;
    }

    /** After a burst: give memory back once at most an eighth of the entries or of the arena is used. */
    private void shrinkIfSparse() {
        int entries = entryMask + 1;
        long bytes = arenaTail - arenaHead;
        int wantEntries = Math.max(INITIAL_ENTRIES, (int) powerOfTwoAtLeast(4L * size(), 1));
        int wantArena = (int) Math.max(INITIAL_ARENA, powerOfTwoAtLeast(4 * bytes, 1));
        if (wantEntries * 2 <= entries || wantArena * 2L <= arena.length) {
            try {
                rebuild(Math.min(entries, wantEntries), Math.min(arena.length, wantArena));
            } catch (OutOfMemoryError e) {
                // Shrinking is an optimisation: keep the bigger arrays (rebuild changed nothing).
            }
        }
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
        if (hashForTests != null) {
            return hashForTests.applyAsInt(key);
        }
        long h = seed ^ key.length;
        for (byte b : key) {
            h = (h ^ (b & 0xff)) * 0x9E3779B97F4A7C15L;
        }
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    private static long powerOfTwoAtLeast(long n, long from) {
        long p = Math.max(1, from);
        while (p < n) {
            p *= 2;
        }
        return p;
    }

    /**
     * Moves every entry into arrays of {@code entries} slots (at least the live count) and an arena
     * of {@code arenaSize} bytes (at least the live bytes), both powers of two. Absolute sequence
     * numbers and arena positions stay; only where they land in the arrays moves. All new arrays
     * are allocated before any field changes, so an OutOfMemoryError leaves the table intact.
     */
    private void rebuild(int entries, int arenaSize) {
        int[] newHashes = new int[entries];
        long[] newOffsets = new long[entries];
        long[] newExpires = new long[entries];
        long[] newKeyAt = new long[entries];
        short[] newLength = new short[entries];
        byte[] newArena = new byte[arenaSize];
        int[] newIndex = new int[entries * 2];
        int newMask = entries - 1;
        int newArenaMask = arenaSize - 1;
        int newIndexMask = entries * 2 - 1;
        for (long s = head; s < tail; s++) {
            int o = (int) (s & entryMask);
            int n = (int) (s & newMask);
            newHashes[n] = hashes[o];
            newOffsets[n] = offsets[o];
            newExpires[n] = expires[o];
            newKeyAt[n] = keyAt[o];
            newLength[n] = keyLength[o];
            for (int i = 0; i < keyLength[o]; i++) {
                newArena[(int) ((keyAt[o] + i) & newArenaMask)] = arena[(int) ((keyAt[o] + i) & arenaMask)];
            }
            int cell = newHashes[n] & newIndexMask;
            while (newIndex[cell] != 0) {
                cell = (cell + 1) & newIndexMask;
            }
            newIndex[cell] = n + 1;
        }
        hashes = newHashes;
        offsets = newOffsets;
        expires = newExpires;
        keyAt = newKeyAt;
        keyLength = newLength;
        entryMask = newMask;
        arena = newArena;
        arenaMask = newArenaMask;
        index = newIndex;
        indexMask = newIndexMask;
    }
}
