package dev.tether.server.hub;

import io.netty.channel.EventLoop;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The heartbeat of every connection one event loop owns: one sweep instead of timer entries and
 * cross-thread tasks per connection. Each connection's earliest deadline is kept in a
 * {@code long[]} beside it, so a sweep reads one array front to back and touches only the
 * connections that are due.
 *
 * <p>The sweep runs when the earliest deadline is due, and sweeps are at least one tick apart so
 * that deadlines close together are served by one wake-up (a deadline may be up to a tick late).
 * With no deadline ahead (no connections, or pings far apart) nothing is scheduled: on the
 * reference machine every wake-up of an idle thread costs ~1.5 ms of CPU, so a fixed one-second
 * tick per event loop was a visible share of an idle server (BENCHMARKS.md).
 *
 * <p>Owner: the event loop. Everything but {@link #stop} is called only there.
 */
final class Heartbeats implements Runnable {
    /** Far enough to mean "never" in System.nanoTime() arithmetic, near enough not to overflow it. */
    static final long NEVER = 1L << 62;

    /** What the sweep needs from a connection. */
    interface Member {
        /** The earliest heartbeat deadline at {@code now}; {@code now + NEVER} when there is none. */
        long nextDue(long now);

        /** Acts on whatever is due at {@code now}. */
        void tick(long now);

        /** Index in the sweep's arrays, -1 when not in them. */
        int heartbeatSlot();

        void heartbeatSlot(int slot);
    }

    private final EventLoop loop;
    private final long tickNanos;
    private final LongSupplier nanoTime;
    private Member[] members = new Member[64];
    /** {@code due[i]}: the time at which {@code members[i]} next needs a tick. */
    private long[] due = new long[64];
    private int size;
    /** The sweep that is scheduled, null when none, and when it is due. */
    private ScheduledFuture<?> pending;
    private long pendingAt;
    /** Inside {@link #run}: new deadlines only lower {@link #sweepEarliest}; run schedules once at its end. */
    private boolean sweeping;
    private long sweepEarliest;
    private volatile boolean stopped;

    Heartbeats(EventLoop loop, long tickMillis) {
        this(loop, tickMillis, System::nanoTime);
    }

    Heartbeats(EventLoop loop, long tickMillis, LongSupplier nanoTime) {
        this.loop = loop;
        this.tickNanos = TimeUnit.MILLISECONDS.toNanos(tickMillis);
        this.nanoTime = nanoTime;
    }

    /** Cancels the sweep for good (one already being scheduled may still run, and does nothing). Any thread. */
    void stop() {
        stopped = true;
        ScheduledFuture<?> p = pending;
        if (p != null) {
            p.cancel(false);
        }
    }

    void add(Member c) {
        assert loop.inEventLoop();
        if (c.heartbeatSlot() >= 0) {
            return;
        }
        if (size == members.length) {
            members = Arrays.copyOf(members, size * 2);
            due = Arrays.copyOf(due, size * 2);
        }
        long now = nanoTime.getAsLong();
        long d = c.nextDue(now);
        c.heartbeatSlot(size);
        due[size] = d;
        members[size++] = c;
        sweepBy(d, now);
    }

    /**
     * A deadline of {@code c} moved, earlier or later, outside a sweep: record its new earliest one.
     * Earlier may bring the sweep forward; later only spares the sweep a visit that finds nothing due.
     */
    void update(Member c) {
        assert loop.inEventLoop();
        int slot = c.heartbeatSlot();
        if (slot >= 0 && slot < size && members[slot] == c) {
            long now = nanoTime.getAsLong();
            long d = c.nextDue(now);
            due[slot] = d;
            sweepBy(d, now);
        }
    }

    void remove(Member c) {
        assert loop.inEventLoop();
        int slot = c.heartbeatSlot();
        if (slot < 0 || slot >= size || members[slot] != c) {
            return;
        }
        Member last = members[--size];
        members[slot] = last;
        due[slot] = due[size];
        last.heartbeatSlot(slot);
        members[size] = null;
        c.heartbeatSlot(-1);
        if (members.length > 64 && size < members.length / 4) {
            members = Arrays.copyOf(members, members.length / 2);
            due = Arrays.copyOf(due, due.length / 2);
        }
    }

    int size() {
        return size;
    }

    /** The deadline the sweep holds for {@code c}, empty when it is not in the sweep. Loop only; for tests. */
    OptionalLong dueOf(Member c) {
        int slot = c.heartbeatSlot();
        return slot >= 0 && slot < size && members[slot] == c ? OptionalLong.of(due[slot]) : OptionalLong.empty();
    }

    /** When the next sweep is due, empty when none is scheduled. Loop only; for tests. */
    OptionalLong sweepDue() {
        return pending == null || stopped ? OptionalLong.empty() : OptionalLong.of(pendingAt);
    }

    private void sweepBy(long d, long now) {
        if (d - now >= NEVER / 2) {
            return;
        }
        if (sweeping) {
            if (d - sweepEarliest < 0) {
                sweepEarliest = d;
            }
            return;
        }
        // A sweep at most one tick after d is coming anyway: let d wait for it.
        if (pending != null && pendingAt - d <= tickNanos) {
            return;
        }
        schedule(d, now);
    }

    private void schedule(long at, long now) {
        if (stopped) {
            return;
        }
        if (pending != null) {
            pending.cancel(false);
        }
        long delay = Math.max(0, at - now);
        pendingAt = now + delay;
        pending = loop.schedule(this, delay, TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        pending = null;
        if (stopped) {
            return;
        }
        long now = nanoTime.getAsLong();
        sweeping = true;
        sweepEarliest = now + NEVER;
        try {
            // Downwards: a connection that leaves during its tick swaps in one that was already seen.
            for (int i = size - 1; i >= 0; i--) {
                if (i >= size) {
                    continue;
                }
                if (due[i] - now <= 0) {
                    Member c = members[i];
                    c.tick(now);
                    if (i < size && members[i] == c) {
                        due[i] = c.nextDue(now);
                    }
                }
                if (i < size && due[i] - sweepEarliest < 0) {
                    sweepEarliest = due[i];
                }
            }
        } finally {
            sweeping = false;
        }
        if (sweepEarliest - now < NEVER / 2) {
            schedule(Math.max(sweepEarliest, now + tickNanos), now);
        }
    }
}
