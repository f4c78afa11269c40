package dev.tether.server.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SlicedLaps} on a real Netty event loop with a fake clock: each visit "takes" one
 * millisecond and a slice is 16 ms, so a lap of 64 members yields to the loop three times.
 *
 * <p>The "publication that arrives mid-lap" is a zero-delay scheduled task. Netty runs it exactly
 * where it would read a socket: only after the loop leaves its round of tasks. That makes the
 * interleaving deterministic, which a byte sent over a socket would not be.
 */
class SlicedLapsTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    /** Fake clock, advanced by visits; touched only on the loop. */
    private long now;
    /** What happened, in order, on the loop: "v<index>:<publications seen>" or "pub". */
    private final List<String> log = new ArrayList<>();
    private int publications;

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = (EventLoop) group.next();
    }

    @AfterEach
    void stop() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Members 0..n-1 with swap-from-end removal, like {@link ChannelFanout.LoopGroup}. */
    private final class Group extends SlicedLaps {
        int[] members;
        int size;
        Runnable onVisit = () -> { };

        Group(int n) {
            super(SlicedLapsTest.this.loop, () -> SlicedLapsTest.this.now, 16 * MS);
            members = IntStream.range(0, n).toArray();
            size = n;
        }

        @Override
        int size() {
            return size;
        }

        @Override
        void visit(int index) {
            now += MS;
            log.add("v" + members[index] + ":" + publications);
            onVisit.run();
        }

        void removeMember(int member) {
            for (int i = 0; i < size; i++) {
                if (members[i] == member) {
                    members[i] = members[--size];
                    return;
                }
            }
        }
    }

    /** Runs {@code task} on the loop and waits for it. */
    private <T> T onLoop(java.util.concurrent.Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private void publishSoon(Group g) {
        loop.schedule(() -> {
            log.add("pub");
            publications++;
            g.wake();
        }, 0, TimeUnit.NANOSECONDS);
    }

    private List<String> logSnapshot() throws Exception {
        return onLoop(() -> List.copyOf(log));
    }

    @Test
    void aPublicationArrivingMidLapReachesTheUnvisitedMembersInThisLapAndTheRestInTheNext() throws Exception {
        Group g = new Group(64);
        g.onVisit = () -> {
            if (log.size() == 4) { // during the 4th visit (member 60)
                publishSoon(g);
                g.onVisit = () -> { };
            }
        };
        g.wake();
        await().atMost(Duration.ofSeconds(5)).until(() -> logSnapshot().size() == 1 + 64 + 64);
        List<String> seen = logSnapshot();

        // The first slice is 16 visits (63..48); the publication is read right after it.
        assertThat(seen.subList(0, 17)).containsExactlyElementsOf(
                concat(visits(63, 48, 0), List.of("pub")));
        // The rest of the first lap (47..0) already carries it.
        assertThat(seen.subList(17, 65)).containsExactlyElementsOf(visits(47, 0, 1));
        // A second lap follows at once, so 63..48 get it too; then the group goes quiet.
        assertThat(seen.subList(65, 129)).containsExactlyElementsOf(visits(63, 0, 1));
        assertThat(onLoop(g::inLap)).isFalse();
    }

    @Test
    void aLapShorterThanASliceRunsAsOneTask() throws Exception {
        Group g = new Group(10);
        g.onVisit = () -> {
            now -= MS; // visits take no time: the lap never reaches its deadline
            if (log.size() == 3) {
                publishSoon(g);
                g.onVisit = () -> now -= MS;
            }
        };
        g.wake();
        await().atMost(Duration.ofSeconds(5)).until(() -> logSnapshot().size() == 1 + 10 + 10);
        List<String> seen = logSnapshot();

        assertThat(seen.subList(0, 11)).containsExactlyElementsOf(concat(visits(9, 0, 0), List.of("pub")));
        assertThat(seen.subList(11, 21)).containsExactlyElementsOf(visits(9, 0, 1));
    }

    @Test
    void membersLeavingBetweenSlicesSkipNobody() throws Exception {
        Group g = new Group(64);
        g.onVisit = () -> {
            if (log.size() == 16) { // the last visit of the first slice; the removals run at the yield
                loop.schedule(() -> {
                    log.add("pub");
                    // Leavers on both sides of the cursor (48): already visited, not yet visited.
                    for (int m : new int[] {10, 63, 0, 47, 50, 5}) {
                        g.removeMember(m);
                    }
                }, 0, TimeUnit.NANOSECONDS);
                g.onVisit = () -> { };
            }
        };
        g.wake();
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> !g.inLap() && log.contains("pub")));
        List<String> seen = logSnapshot();

        List<Integer> visitedAfterPub = seen.subList(seen.indexOf("pub") + 1, seen.size()).stream()
                .map(e -> Integer.parseInt(e.substring(1, e.indexOf(':')))).toList();
        List<Integer> notYetVisited = new ArrayList<>(IntStream.rangeClosed(0, 47).boxed().toList());
        notYetVisited.removeAll(List.of(10, 0, 47, 5));
        assertThat(visitedAfterPub).containsAll(notYetVisited).doesNotContain(10, 0, 47, 5, 63, 50);
    }

    private static List<String> visits(int from, int downTo, int publications) {
        List<String> out = new ArrayList<>();
        for (int i = from; i >= downTo; i--) {
            out.add("v" + i + ":" + publications);
        }
        return out;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        return Arrays.stream(parts).flatMap(List::stream).toList();
    }
}
