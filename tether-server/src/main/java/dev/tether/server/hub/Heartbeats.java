package dev.tether.server.hub;

import io.netty.channel.EventLoop;
import java.util.Arrays;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The heartbeat of every connection one event loop owns: a single periodic sweep instead of timer
 * entries and cross-thread tasks per connection. Each connection's earliest deadline is kept in a
 * {@code long[]} beside it, so a sweep reads one array front to back and touches only the
 * connections that are due (about one in {@code ping / tick} per sweep), not all of them.
 *
 * <p>Owner: the event loop. {@link #add} and {@link #remove} are called only there.
 */
final class Heartbeats implements Runnable {
    private final EventLoop loop;
    private Connection[] connections = new Connection[64];
    /** {@code due[i]}: System.nanoTime() at which {@code connections[i]} next needs a tick. */
    private long[] due = new long[64];
    private int size;
    private ScheduledFuture<?> sweep;

    Heartbeats(EventLoop loop) {
        this.loop = loop;
    }

    /** Starts the sweep every {@code tickMillis}. Any thread. */
    void start(long tickMillis) {
        sweep = loop.scheduleAtFixedRate(this, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    void stop() {
        ScheduledFuture<?> s = sweep;
        if (s != null) {
            s.cancel(false);
        }
    }

    void add(Connection c) {
        assert loop.inEventLoop();
        if (c.heartbeatSlot >= 0) {
            return;
        }
        if (size == connections.length) {
            connections = Arrays.copyOf(connections, size * 2);
            due = Arrays.copyOf(due, size * 2);
        }
        c.heartbeatSlot = size;
        due[size] = c.nextDue(System.nanoTime());
        connections[size++] = c;
    }

    /** A deadline of {@code c} moved earlier outside a sweep: record its new earliest one. */
    void update(Connection c) {
        assert loop.inEventLoop();
        int slot = c.heartbeatSlot;
        if (slot >= 0 && slot < size && connections[slot] == c) {
            due[slot] = c.nextDue(System.nanoTime());
        }
    }

    void remove(Connection c) {
        assert loop.inEventLoop();
        int slot = c.heartbeatSlot;
        if (slot < 0 || slot >= size || connections[slot] != c) {
            return;
        }
        Connection last = connections[--size];
        connections[slot] = last;
        due[slot] = due[size];
        last.heartbeatSlot = slot;
        connections[size] = null;
        c.heartbeatSlot = -1;
        if (connections.length > 64 && size < connections.length / 4) {
            connections = Arrays.copyOf(connections, connections.length / 2);
            due = Arrays.copyOf(due, due.length / 2);
        }
    }

    int size() {
        return size;
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        // Downwards: a connection that leaves during its tick swaps in one that was already seen.
        for (int i = size - 1; i >= 0; i--) {
            if (i < size && due[i] - now <= 0) {
                Connection c = connections[i];
                c.tick(now);
                if (i < size && connections[i] == c) {
                    due[i] = c.nextDue(now);
                }
            }
        }
    }
}
