package dev.tether.server.broker;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One channel's log: ordered publications with offsets 1, 2, 3, ... in one epoch.
 *
 * <p>Contract for every backend:
 * <ul>
 *   <li>{@link #append} assigns the next offset and stores the publication atomically: once the
 *       future completes the publication is readable with {@link #get}, {@link #top()} covers it,
 *       and the broker's {@link AppendListener} has been told. Offsets have no gaps and follow the
 *       order appends were accepted. The future completes only after the publication is stored as
 *       the backend promises (memory, disk, broker).</li>
 *   <li>A key seen within the dedup window is not stored again: the result carries the first
 *       offset and {@code duplicate=true}. A channel remembers a bounded number of keys at once; an
 *       append with a new key beyond that fails with {@link KeyLimitException} and stores nothing
 *       (a key is never forgotten early, so a resend is never stored twice).</li>
 *   <li>{@link #get}, {@link #top()}, {@link #first()} never block (they are called on event loops);
 *       a reader that reads {@code top()} first and then {@code get(o)} for {@code first() <= o <= top}
 *       sees the publication, or null only if it left history in between; never another one.</li>
 *   <li>{@link #epoch()} changes whenever history is lost or reset; offsets restart at 1 then.</li>
 * </ul>
 * A stream is a handle: the opener closes it when done so idle channels can be released.
 */
public interface ChannelStream extends AutoCloseable {

    String channel();

    CompletableFuture<AppendResult> append(AppendRequest request);

    /**
     * The publication at {@code offset}, or null when it is gone. A backend may keep serving a
     * publication a little after it left history (below {@link #first()}), so that a live subscriber
     * a moment behind a burst is not cut off; recovery and history use {@link #first()} strictly.
     */
    Publication get(long offset);

    /** Highest offset assigned so far; 0 when nothing was ever published in this epoch. */
    long top();

    /** Lowest offset still in history; {@code top() + 1} when history is empty. */
    long first();

    String epoch();

    /** Up to {@code max} publications with offset >= {@code from}, ascending. */
    default List<Publication> read(long from, int max) {
        long top = top();
        long start = Math.max(from, first());
        var out = new java.util.ArrayList<Publication>((int) Math.max(0, Math.min(max, top - start + 1)));
        for (long o = start; o <= top && out.size() < max; o++) {
            Publication p = get(o);
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    void close();
}
