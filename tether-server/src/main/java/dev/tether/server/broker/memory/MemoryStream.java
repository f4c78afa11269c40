package dev.tether.server.broker.memory;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.AppendResult;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.KeyLimitException;
import dev.tether.server.broker.Publication;
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
 */
final class MemoryStream implements ChannelStream {
    private static final int INITIAL_RING = 16;

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
                if (keys == null) {
                    keys = new KeyTable();
                }
                long seen = keys.find(key);
                if (seen >= 0) {
                    return CompletableFuture.completedFuture(new AppendResult(seen, epoch, true));
                }
                if (keys.size() >= maxKeys || !keys.fits(key.length)) {
                    String reason = keys.size() >= maxKeys
                            ? "it remembers " + maxKeys + " publish keys (dedup-max-keys)"
                            : "its publish keys fill " + (KeyTable.MAX_ARENA_BYTES >> 20) + " MiB";
                    long retryAfter = keys.size() > 0 ? Math.max(1, keys.oldestExpiry() - now) : 1;
                    return CompletableFuture.failedFuture(new KeyLimitException(channel, reason, retryAfter));
                }
            }
            offset = top + 1;
            Publication pub = new Publication(channel, offset, now, request.data(), request.fromUser(), request.fromClient());
            Publication[] r = ensureCapacity();
            r[(int) (offset & (r.length - 1))] = pub;
            if (key != null) {
                keys.add(key, offset, now + dedupMillis);
                broker.keysAdded(1);
            }
            top = offset;
            if (offset - first + 1 > historySize) {
                first = offset - historySize + 1;
            }
            evictExpired(now);
        }
        broker.sweepAt(Math.min(now + historyAgeMillis, request.key() != null ? now + dedupMillis : Long.MAX_VALUE));
        broker.appended(channel, offset);
        return CompletableFuture.completedFuture(new AppendResult(offset, epoch, false));
    }

    /** Grows the ring (power of two) while it is smaller than the history size. Guarded by this. */
    private Publication[] ensureCapacity() {
        Publication[] r = ring;
        long needed = top + 1 - first + 1;
        if (needed <= r.length || r.length >= historySize) {
            return r;
        }
        Publication[] grown = new Publication[Math.min(r.length * 2, Integer.highestOneBit(historySize - 1) << 1)];
        for (long o = first; o <= top; o++) {
            grown[(int) (o & (grown.length - 1))] = r[(int) (o & (r.length - 1))];
        }
        ring = grown;
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
    }

    private int keyCount() {
        return keys == null ? 0 : keys.size();
    }

    /** Drops publications older than the history age. */
    synchronized void evictExpired(long now) {
        long cutoff = now - historyAgeMillis;
        Publication[] r = ring;
        long f = first;
        while (f <= top) {
            Publication p = r[(int) (f & (r.length - 1))];
            if (p == null || p.offset() != f || p.timestamp() > cutoff) {
                break;
            }
            r[(int) (f & (r.length - 1))] = null;
            f++;
        }
        first = f;
        expireKeys(now);
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
}
