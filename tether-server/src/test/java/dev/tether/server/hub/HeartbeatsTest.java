package dev.tether.server.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The heartbeat sweep on a real Netty event loop with a fake clock: it is scheduled for the
 * earliest deadline, at least one tick after the previous sweep, and not at all when no member has
 * a deadline. The fake clock only decides where a sweep is due; the loop's own timer runs it, so
 * the tests that need a sweep to happen use deadlines a few milliseconds ahead.
 */
class HeartbeatsTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long TICK_MS = 1000;

    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private Heartbeats beats;

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = (EventLoop) group.next();
        beats = new Heartbeats(loop, TICK_MS, now::get);
    }

    @AfterEach
    void stop() throws Exception {
        beats.stop();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** A connection stand-in: one deadline (relative to the fake clock), and the ticks it got. */
    private class Member implements Heartbeats.Member {
        long deadline;
        int slot = -1;
        final List<Long> ticks = new ArrayList<>();
        /** What the deadline becomes after a tick, relative to the tick's time; NEVER for none. */
        long after = Heartbeats.NEVER;

        Member(long deadline) {
            this.deadline = deadline;
        }

        @Override
        public long nextDue(long at) {
            return deadline;
        }

        @Override
        public void tick(long at) {
            ticks.add(at);
            deadline = at + after;
        }

        @Override
        public int heartbeatSlot() {
            return slot;
        }

        @Override
        public void heartbeatSlot(int s) {
            slot = s;
        }
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private Member add(long dueInNanos) throws Exception {
        Member m = new Member(now.get() + dueInNanos);
        onLoop(() -> {
            beats.add(m);
            return null;
        });
        return m;
    }

    @Test
    void nothingIsScheduledWhileNoMemberHasADeadline() throws Exception {
        add(Heartbeats.NEVER);
        add(Heartbeats.NEVER);

        assertThat(onLoop(beats::sweepDue)).isEmpty();
        assertThat(onLoop(beats::size)).isEqualTo(2);
    }

    @Test
    void theSweepIsDueAtTheEarliestDeadline() throws Exception {
        long t0 = now.get();
        add(10_000 * MS);
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 10_000 * MS);

        // Earlier by more than a tick: the sweep moves to it.
        add(2_000 * MS);
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 2_000 * MS);

        // Within a tick after the sweep already due: it waits for that sweep.
        add(1_500 * MS);
        add(2_900 * MS);
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 2_000 * MS);
    }

    @Test
    void anUpdateThatMovesADeadlineEarlierMovesTheSweep() throws Exception {
        long t0 = now.get();
        Member m = add(30_000 * MS);
        onLoop(() -> {
            m.deadline = t0 + 5_000 * MS;
            beats.update(m);
            return null;
        });
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 5_000 * MS);
    }

    @Test
    void anUpdateThatMovesADeadlineLaterSparesTheMemberTheOldOne() throws Exception {
        long t0 = now.get();
        Member m = add(5 * MS); // like a pong deadline, due 5 ms from now
        onLoop(() -> {
            m.deadline = t0 + 25_000 * MS; // the pong came: next is the ping
            beats.update(m);
            return null;
        });
        now.addAndGet(5 * MS);

        // The sweep already due still runs, finds nothing due and moves on to the new deadline.
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(beats::sweepDue).equals(OptionalLong.of(t0 + 25_000 * MS)));
        assertThat(onLoop(() -> m.ticks)).isEmpty();
    }

    @Test
    void aSweepTicksTheDueMembersOnlyAndSchedulesTheNextDeadline() throws Exception {
        long t0 = now.get();
        Member due = add(5 * MS); // due 5 ms from now in loop-timer terms
        Member later = add(60_000 * MS);
        due.after = 25_000 * MS; // like a ping: the next one 25 s after this one
        now.addAndGet(5 * MS); // the fake clock reads "due" when the sweep runs

        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> due.ticks.size()) == 1);

        assertThat(onLoop(() -> later.ticks)).isEmpty();
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 5 * MS + 25_000 * MS);
    }

    @Test
    void sweepsAreAtLeastOneTickApartAndStopWhenNothingIsAhead() throws Exception {
        long t0 = now.get();
        Member m = add(2 * MS);
        m.after = 1 * MS; // wants to be ticked again a millisecond later
        now.addAndGet(2 * MS);

        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> m.ticks.size()) == 1);
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 2 * MS + TICK_MS * MS);

        onLoop(() -> {
            m.after = Heartbeats.NEVER; // after the next tick: nothing ahead
            return null;
        });
        now.addAndGet(TICK_MS * MS);
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> m.ticks.size()) == 2);
        assertThat(onLoop(beats::sweepDue)).isEmpty();
        assertThat(onLoop(() -> m.ticks)).containsExactly(t0 + 2 * MS, t0 + 2 * MS + TICK_MS * MS);
    }

    @Test
    void aDeadlineCreatedDuringASweepIsKeptWhenTheSweepSchedulesTheNext() throws Exception {
        long t0 = now.get();
        Member first = new Member(t0);
        first.after = 20_000 * MS;
        Member joiner = new Member(t0 + 7_000 * MS);
        // Its tick adds another member (below the sweep's cursor), as a tick on this loop could.
        Member adder = new Member(t0) {
            @Override
            public void tick(long at) {
                super.tick(at);
                beats.add(joiner);
            }
        };
        onLoop(() -> { // one task: the sweep (due now) runs only after both are in
            beats.add(first);
            beats.add(adder);
            return null;
        });

        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> adder.ticks.size()) == 1);
        assertThat(onLoop(() -> first.ticks)).hasSize(1);
        assertThat(onLoop(beats::size)).isEqualTo(3);
        // The joiner's deadline (7 s) is earlier than the first member's next one (20 s).
        assertThat(onLoop(beats::sweepDue)).hasValue(t0 + 7_000 * MS);
    }

    @Test
    void afterStopNothingIsScheduled() throws Exception {
        add(3_000 * MS);
        assertThat(onLoop(beats::sweepDue)).isPresent();

        beats.stop();
        add(0);
        add(5 * MS);

        assertThat(onLoop(beats::sweepDue)).isEmpty();
    }
}
