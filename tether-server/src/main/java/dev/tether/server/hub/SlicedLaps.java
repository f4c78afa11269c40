package dev.tether.server.hub;

import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Visits every member of a group (index {@code size() - 1} down to 0) once per lap on one event
 * loop, and hands the loop back to its I/O every {@link #SLICE_NANOS} of a lap.
 *
 * <p>Why slices: a lap over 1,000 sockets is ~1,000 system calls, 7-10 ms on the reference
 * machine. Run as one task, a publication that arrives meanwhile is read only after the lap ends
 * and then waits for a whole second lap: up to two laps. Sliced, it is read within a slice, every
 * member this lap has not visited yet gets it in this lap, and the members already visited get it
 * in the lap that starts as soon as this one ends. A publication waits about one lap at most.
 *
 * <p>A lap yields with a zero-delay {@code schedule}, not {@code execute}: Netty moves due
 * scheduled tasks to the task queue only when it starts a round of tasks, after its I/O poll, so
 * {@code execute} would run the rest of the lap before any I/O.
 *
 * <p>Members may join or leave between slices. A leaver's slot is filled from the end (see
 * {@link ChannelFanout}); because a lap walks downwards, the member that moves in was either
 * already visited (visited twice: harmless, a visit writes only what is new) or not yet visited
 * (still visited). A member that joins mid-lap is appended above the cursor and waits for the next
 * lap, which any {@link #wake()} during this lap guarantees.
 */
abstract class SlicedLaps implements Runnable {
    /** Longest run of a lap before the loop gets to poll its sockets. */
    static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Members visited between two looks at the clock. */
    private static final int CLOCK_EVERY = 16;

    final EventLoop loop;
    private final LongSupplier nanoTime;
    private final long sliceNanos;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable resume = this::continueLap;
    /** Next member to visit in the lap in progress; -1 when no lap is in progress. Loop only. */
    private int next = -1;
    /** A wake-up arrived during the lap in progress: another lap follows it. Loop only. */
    private boolean again;

    SlicedLaps(EventLoop loop) {
        this(loop, System::nanoTime, SLICE_NANOS);
    }

    SlicedLaps(EventLoop loop, LongSupplier nanoTime, long sliceNanos) {
        this.loop = loop;
        this.nanoTime = nanoTime;
        this.sliceNanos = sliceNanos;
    }

    /** Number of members; indexes at or above it are skipped. Loop only. */
    abstract int size();

    /** Visits one member. Loop only. */
    abstract void visit(int index);

    /** From any thread: there is something new for the members; one lap (at least) follows. */
    final void wake() {
        if (scheduled.compareAndSet(false, true)) {
            loop.execute(this);
        }
    }

    @Override
    public final void run() {
        scheduled.set(false);
        if (next >= 0) {
            again = true;
            return;
        }
        next = size() - 1;
        continueLap();
    }

    private void continueLap() {
        long deadline = nanoTime.getAsLong() + sliceNanos;
        int visited = 0;
        for (;;) {
            while (next >= 0) {
                int i = next--;
                if (i < size()) {
                    visit(i);
                }
                if (++visited % CLOCK_EVERY == 0 && next >= 0 && nanoTime.getAsLong() - deadline >= 0) {
                    loop.schedule(resume, 0, TimeUnit.NANOSECONDS);
                    return;
                }
            }
            if (!again) {
                return;
            }
            again = false;
            next = size() - 1;
        }
    }

    /** True while a lap is in progress (between slices too). Loop only; for tests. */
    final boolean inLap() {
        return next >= 0;
    }
}
