package dev.tether.server.broker.memory;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.AppendResult;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.KeyLimitException;
import dev.tether.server.broker.Publication;
import dev.tether.server.broker.Slab;
import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One channel's in-memory log: a ring of publications that grows up to the history size.
 *
 * <p>Writers (append, eviction) hold this object's monitor. Readers take no lock: they read the
 * volatile {@code top} first, then the ring slot, and check the slot's offset, so a slot that was
 * overwritten or evicted reads as null instead of as the wrong publication.
 *
 * <p>Every byte the stream keeps alive is counted in the broker's memory total ({@link #account}):
 * the stream itself, its ring, each publication a ring slot holds and its key table. The broker
 * trims history across all streams when the total passes {@code history-memory}.
 */
final class MemoryStream implements ChannelStream {
    private static final int INITIAL_RING = 16;
    /**
     * Heap of a channel besides its name and ring: this object, its epoch string and its entry in the
     * broker's map. An empty channel measured 274 B with its 16-slot ring, its name not included
     * (BENCHMARKS.md, change 19); it is counted as this, plus 40 B and one per character for the
     * name, plus 16 B and 4 per slot for the ring.
     */
    static final int CHANNEL_BYTES = 200;
    /** Largest block a busy channel's publications share. */
    static final int MAX_SLAB = 16 << 10;
    /** Frames larger than this get a block of their own. */
    static final int MAX_CARVED_FRAME = 4 << 10;
    /** A block that filled within this of being started makes the next one twice as large. */
    static final long SLAB_GROWTH_MILLIS = 100;
    /** A key table's own objects besides its arrays. */
    private static final int KEY_TABLE_BYTES = 64;

    private final String channel;
    private final String epoch;
    private final int historySize;
    private final long historyAgeMillis;
    private final long dedupMillis;
    private final int maxKeys;
    private final Clock clock;
    private final MemoryBroker broker;

    /** Guarded by this; published to readers by the volatile write of {@link #top}. */
    private volatile Publication[] ring = new Publication[INITIAL_RING];
    private volatile long top;
    private volatile long first = 1;
    /**
     * Guarded by this: idempotency keys in arrival order, so the oldest expire first; null while
     * the channel remembers none (most channels never see a key: no arrays for them).
     */
    private KeyTable keys;
    /** Guarded by this: open handles; the channel is released only when none are left. */
    private int handles;
    private long lastUsedMillis;
    /** Guarded by this: ring slots holding a publication (history, and ones just below first not yet overwritten). */
    private int held;
    /** Guarded by this: bytes this stream has added to the broker's memory total, and of that its key table. */
    private long accounted;
    private long keysAccounted;
    /** Guarded by this: the block recent publications are carved from, and when it was started. */
    private Slab slab;
    private long slabStartedMillis;

    MemoryStream(String channel, HistoryPolicy history, Duration dedupWindow, int maxKeys, Clock clock, MemoryBroker broker) {
        this.channel = channel;
        this.maxKeys = maxKeys;
        this.historySize = history.size();
        this.historyAgeMillis = history.maxAge().toMillis();
        this.dedupMillis = dedupWindow.toMillis();
        this.clock = clock;
        this.broker = broker;
        this.epoch = "e-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE).substring(0, 10);
        this.lastUsedMillis = clock.millis();
        synchronized (this) {
            account(CHANNEL_BYTES + 40L + channel.length() + ringBytes(INITIAL_RING));
        }
    }

    private static long ringBytes(int slots) {
        return 16 + 4L * slots;
    }

    /** Adds {@code delta} to this stream's share of the broker's memory total. Guarded by this. */
    private void account(long delta) {
        accounted += delta;
        broker.memoryChanged(delta);
    }

    /**
     * A block with room for a frame of {@code length} bytes. A busy channel's publications share
     * blocks that double, from one frame up to {@link #MAX_SLAB} bytes, while each block fills within
     * {@link #SLAB_GROWTH_MILLIS}, and halve when one takes longer, so that a block holds about what
     * the channel publishes in that time; a quiet channel's publication, or a frame over
     * {@link #MAX_CARVED_FRAME}, gets a block of exactly its size, as if there were no blocks. So a
     * channel keeps at most one part-filled block, and one block with publications that left history
     * while newer ones from it remain. Guarded by this (called while its publication is built).
     */
    private Slab slabFor(int length, long now) {
        Slab current = slab;
        if (current != null && length <= MAX_CARVED_FRAME && current.remaining() >= length) {
            return current;
        }
        int capacity = length;
        if (length <= MAX_CARVED_FRAME && current != null) {
            // Filled within the window: twice as large; else half, so a block holds about what the
            // channel publishes in that time.
            int next = now - slabStartedMillis <= SLAB_GROWTH_MILLIS ? current.capacity() * 2 : current.capacity() / 2;
            capacity = Math.max(length, Math.min(MAX_SLAB, next));
        }
        Slab fresh = Slab.allocate(capacity);
        account(capacity + Slab.HEAP_BYTES);
        if (length <= MAX_CARVED_FRAME) {
            slab = fresh;
            slabStartedMillis = now;
            if (current != null && current.live() == 0) {
                account(-(current.capacity() + Slab.HEAP_BYTES));
            }
        }
        return fresh;
    }

    /** A ring slot now holds {@code p}. Guarded by this. */
    private void hold(Publication p) {
        p.slab().hold();
        account(Publication.HEAP_BYTES);
    }

    /**
     * A ring slot no longer holds {@code p}; its block's memory no longer counts once no slot holds a
     * publication of it and it is not the one being filled. Returns the bytes that no longer count.
     * Guarded by this.
     */
    private long letGo(Publication p) {
        long freed = Publication.HEAP_BYTES;
        Slab b = p.slab();
        if (b.letGo() == 0 && b != slab) {
            freed += b.capacity() + Slab.HEAP_BYTES;
        }
        account(-freed);
        return freed;
    }

    /** Brings the key table's share of the memory total up to date. Guarded by this. */
    private void accountKeys() {
        long now = keys == null ? 0 : KEY_TABLE_BYTES + keys.footprintBytes();
        long delta = now - keysAccounted;
        if (delta != 0) {
            keysAccounted = now;
            account(delta);
            broker.keyMemoryChanged(delta);
        }
    }

    @Override
    public String channel() {
        return channel;
    }

    @Override
    public CompletableFuture<AppendResult> append(AppendRequest request) {
        long offset;
        long now;
        synchronized (this) {
            now = clock.millis();
            lastUsedMillis = now;
            expireKeys(now);
            byte[] key = request.key() == null ? null : KeyTable.bytes(request.key());
            if (key != null) {
                long seen = keys == null ? -1 : keys.find(key);
                if (seen >= 0) {
                    return CompletableFuture.completedFuture(new AppendResult(seen, epoch, true));
                }
                String full = keyRefusal(key.length);
                if (full != null) {
                    long retryAfter = keyCount() > 0 ? Math.max(1, keys.oldestExpiry() - now)
                            : Math.min(1_000, dedupMillis);
                    return CompletableFuture.failedFuture(new KeyLimitException(channel, full, retryAfter));
                }
            }
            offset = top + 1;
            long at = now;
            Publication pub = new Publication(channel, offset, now, request.data(), request.fromUser(), request.fromClient(),
                    length -> slabFor(length, at));
            Publication[] r = ensureCapacity();
            int slot = (int) (offset & (r.length - 1));
            Publication overwritten = r[slot];
            r[slot] = pub;
            hold(pub);
            if (overwritten != null) {
                letGo(overwritten);
            } else {
                held++;
            }
            if (key != null) {
                if (keys == null) {
                    keys = new KeyTable();
                }
                keys.add(key, offset, now + dedupMillis);
                broker.keysAdded(1);
                accountKeys();
            }
            top = offset;
            if (offset - first + 1 > historySize) {
                first = offset - historySize + 1;
            }
            evictExpired(now);
        }
        broker.sweepAt(Math.min(now + historyAgeMillis, request.key() != null ? now + dedupMillis : Long.MAX_VALUE));
        broker.checkMemory();
        broker.appended(channel, offset);
        return CompletableFuture.completedFuture(new AppendResult(offset, epoch, false));
    }

    /** Why a new key of {@code length} bytes cannot be remembered now, or null if it can. Guarded by this. */
    private String keyRefusal(int length) {
        if (keyCount() >= maxKeys) {
            return "it remembers " + maxKeys + " publish keys (dedup-max-keys)";
        }
        if (keys != null && !keys.fits(length)) {
            return "its publish keys fill " + (KeyTable.MAX_ARENA_BYTES >> 20) + " MiB";
        }
        if (broker.keyMemoryFull()) {
            return "the publish keys of all channels fill half of history-memory (" + broker.memoryLimit() + " bytes)";
        }
        return null;
    }

    /** Grows the ring (power of two) while it is smaller than the history size. Guarded by this. */
    private Publication[] ensureCapacity() {
        Publication[] r = ring;
        long needed = top + 1 - first + 1;
        if (needed <= r.length || r.length >= historySize) {
            return r;
        }
        Publication[] grown = new Publication[Math.min(r.length * 2, Integer.highestOneBit(historySize - 1) << 1)];
        // Below the history size nothing has left by size, so every slot that holds a publication is in
        // first..top (age eviction empties slots): none is dropped here.
        for (long o = first; o <= top; o++) {
            grown[(int) (o & (grown.length - 1))] = r[(int) (o & (r.length - 1))];
        }
        ring = grown;
        account(ringBytes(grown.length) - ringBytes(r.length));
        return grown;
    }

    private void expireKeys(long now) {
        if (keys == null) {
            return;
        }
        int removed = keys.expire(now);
        if (removed > 0) {
            broker.keysAdded(-removed);
        }
        if (keys.size() == 0) {
            keys = null;
        }
        if (removed > 0) {
            accountKeys();
        }
    }

    private int keyCount() {
        return keys == null ? 0 : keys.size();
    }

    /** Drops publications older than the history age. */
    synchronized void evictExpired(long now) {
        long cutoff = now - historyAgeMillis;
        Publication[] r = ring;
        long f = first;
        long freed = 0;
        while (f <= top) {
            Publication p = r[(int) (f & (r.length - 1))];
            if (p == null || p.offset() != f || p.timestamp() > cutoff) {
                break;
            }
            r[(int) (f & (r.length - 1))] = null;
            freed += letGo(p);
            held--;
            f++;
        }
        if (freed > 0) {
            first = f;
            if (f > top) {
                // Everything left is older still: give the ring back.
                dropRing();
            }
        }
        expireKeys(now);
    }

    /**
     * Frees memory for the broker's limit, oldest first, publications published no later than
     * {@code until} only: first the ones below {@link #first} that the ring still holds (they left
     * history by size but a subscriber a moment behind may still read them), then history, until
     * {@code wanted} bytes are freed. Returns the bytes freed.
     */
    synchronized long trimForMemory(long until, long wanted) {
        long freed = 0;
        Publication[] r = ring;
        if (held > top - first + 1) {
            for (long o = Math.max(1, top - r.length + 1); o < first && freed < wanted; o++) {
                int slot = (int) (o & (r.length - 1));
                Publication p = r[slot];
                if (p != null && p.offset() == o) {
                    if (p.timestamp() > until) {
                        break; // the rest below first is younger still
                    }
                    r[slot] = null;
                    freed += letGo(p);
                    held--;
                }
            }
        }
        long f = first;
        int evicted = 0;
        if (held == top - first + 1) {
            while (f <= top && freed < wanted) {
                int slot = (int) (f & (r.length - 1));
                Publication p = r[slot];
                if (p.timestamp() > until) {
                    break;
                }
                r[slot] = null;
                freed += letGo(p);
                held--;
                evicted++;
                f++;
            }
        }
        first = f;
        broker.evictedForMemory(evicted);
        if (f > top) {
            freed += dropRing();
        }
        return freed;
    }

    /**
     * When the oldest publication this stream holds was published (below {@link #first} if the ring
     * still holds some there, else the first in history); {@code Long.MAX_VALUE} when none.
     */
    synchronized long oldestTimestamp() {
        if (held > top - first + 1) {
            Publication[] r = ring;
            for (long o = Math.max(1, top - r.length + 1); o < first; o++) {
                Publication p = r[(int) (o & (r.length - 1))];
                if (p != null && p.offset() == o) {
                    return p.timestamp();
                }
            }
        }
        return first <= top ? ring[(int) (first & (ring.length - 1))].timestamp() : Long.MAX_VALUE;
    }

    /**
     * With history empty: replaces the ring by a new small one, letting go of whatever it held, and
     * of the block being filled. Returns the bytes that no longer count. Guarded by this.
     */
    private long dropRing() {
        long freed = 0;
        Publication[] r = ring;
        if (r.length != INITIAL_RING || held != 0) {
            Publication[] fresh = new Publication[INITIAL_RING];
            for (Publication p : r) {
                if (p != null) {
                    freed += letGo(p);
                }
            }
            held = 0;
            ring = fresh;
            account(ringBytes(INITIAL_RING) - ringBytes(r.length));
            freed += ringBytes(r.length) - ringBytes(INITIAL_RING);
        }
        if (slab != null && slab.live() == 0) {
            freed += slab.capacity() + Slab.HEAP_BYTES;
            account(-(slab.capacity() + Slab.HEAP_BYTES));
            slab = null;
        }
        return freed;
    }

    /** Also serves publications that just left history while their ring slot is not yet reused. */
    @Override
    public Publication get(long offset) {
        Publication[] r = ring;
        Publication p = r[(int) (offset & (r.length - 1))];
        return p != null && p.offset() == offset ? p : null;
    }

    @Override
    public long top() {
        return top;
    }

    @Override
    public long first() {
        return first;
    }

    @Override
    public String epoch() {
        return epoch;
    }

    synchronized void retain() {
        handles++;
        lastUsedMillis = clock.millis();
    }

    @Override
    public void close() {
        long deadline;
        synchronized (this) {
            if (handles > 0) {
                handles--;
            }
            lastUsedMillis = clock.millis();
            deadline = nextDeadline(broker.idleReleaseMillis());
        }
        if (deadline != Long.MAX_VALUE) {
            broker.sweepAt(deadline);
        }
    }

    /**
     * The earliest time (clock millis) at which a sweep has something to do here: the oldest
     * publication leaves the history age, the oldest idempotency key expires, or, with no handle,
     * history or key left, the channel becomes releasable. {@code Long.MAX_VALUE} if none.
     */
    synchronized long nextDeadline(long idleReleaseMillis) {
        long d = Long.MAX_VALUE;
        if (first <= top) {
            Publication p = ring[(int) (first & (ring.length - 1))];
            if (p != null && p.offset() == first) {
                d = p.timestamp() + historyAgeMillis;
            }
        }
        if (keyCount() > 0) {
            d = Math.min(d, keys.oldestExpiry());
        } else if (handles == 0 && first > top) {
            d = Math.min(d, lastUsedMillis + idleReleaseMillis);
        }
        return d;
    }

    /** Milliseconds this channel has been releasable: no handles, no history; else 0. */
    synchronized long idleSince(long now) {
        if (handles > 0 || first <= top || keyCount() > 0) {
            return 0;
        }
        return now - lastUsedMillis;
    }

    /** No handle, no history, no key: the channel holds nothing but itself. */
    synchronized boolean releasable() {
        return handles == 0 && first > top && keyCount() == 0;
    }

    /**
     * Whether this channel has had no handle, history or key for at least {@code minIdleMillis}; if so
     * it takes its bytes out of the broker's memory total, and the caller removes it from the map (in
     * the same {@code compute}, so that no {@code open} can come in between).
     */
    synchronized boolean release(long now, long minIdleMillis) {
        if (handles > 0 || first <= top || keyCount() > 0 || now - lastUsedMillis < minIdleMillis) {
            return false;
        }
        broker.memoryChanged(-accounted);
        accounted = 0;
        return true;
    }

    /**
     * What trimming this stream could free at most: everything it counts but the channel itself, its
     * ring and its key table (the publications it holds and their blocks).
     */
    synchronized long trimmableBytes() {
        return accounted - (CHANNEL_BYTES + 40L + channel.length()) - ringBytes(ring.length) - keysAccounted;
    }

    /**
     * Tests: what {@link #accounted} should be, recomputed from scratch: the channel, its ring, each
     * block that a ring slot holds a publication of or that is being filled, each held publication,
     * the key table's arrays.
     */
    synchronized long recountBytes() {
        java.util.Set<Slab> blocks = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long total = CHANNEL_BYTES + 40L + channel.length() + ringBytes(ring.length)
                + (keys == null ? 0 : KEY_TABLE_BYTES + keys.footprintBytes());
        for (Publication p : ring) {
            if (p != null) {
                total += Publication.HEAP_BYTES;
                blocks.add(p.slab());
            }
        }
        if (slab != null) {
            blocks.add(slab);
        }
        for (Slab b : blocks) {
            total += b.capacity() + Slab.HEAP_BYTES;
        }
        return total;
    }

    /** Bytes this stream counts in the broker's memory total; tests. */
    synchronized long accountedBytes() {
        return accounted;
    }
}
