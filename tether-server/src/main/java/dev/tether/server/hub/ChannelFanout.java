package dev.tether.server.hub;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The subscribers of one channel on this node, grouped by event loop.
 *
 * <p>An append wakes each group once (one task per event loop, not per subscriber); wake-ups that
 * arrive while a group's task is pending coalesce into it. The task lets every subscriber of the
 * group read forward from its own position, so a burst of publications costs one task per loop.
 */
final class ChannelFanout {
    final String channel;
    /** Guarded by the hub's compute on its fan-out map. */
    int subscribers;
    private final ConcurrentHashMap<EventLoop, LoopGroup> groups = new ConcurrentHashMap<>(4);

    ChannelFanout(String channel) {
        this.channel = channel;
    }

    /** Called on the subscription's event loop. */
    void add(Subscription s) {
        EventLoop loop = s.connection.eventLoop();
        groups.computeIfAbsent(loop, LoopGroup::new).add(s);
    }

    /** Called on the subscription's event loop. */
    void remove(Subscription s) {
        LoopGroup g = groups.get(s.connection.eventLoop());
        if (g != null) {
            g.remove(s);
        }
    }

    /** From any thread: new publications are readable. */
    void wake() {
        for (LoopGroup g : groups.values()) {
            g.wake();
        }
    }

    /** From any thread: sends one presence push (encoded once) to every presence subscriber. */
    void broadcastPresence(ByteBuf push) {
        for (LoopGroup g : groups.values()) {
            g.loop.execute(() -> g.presence(push));
        }
    }

    /** The subscribers on one event loop. Owner: that loop (except {@link #scheduled}). */
    static final class LoopGroup implements Runnable {
        private static final Subscription[] NONE = new Subscription[0];
        final EventLoop loop;
        private final AtomicBoolean scheduled = new AtomicBoolean();
        /** Copy-on-write so a drain may remove subscribers while iterating. */
        private Subscription[] members = NONE;

        LoopGroup(EventLoop loop) {
            this.loop = loop;
        }

        void add(Subscription s) {
            Subscription[] m = Arrays.copyOf(members, members.length + 1);
            m[m.length - 1] = s;
            members = m;
        }

        void remove(Subscription s) {
            Subscription[] m = members;
            for (int i = 0; i < m.length; i++) {
                if (m[i] == s) {
                    Subscription[] n = new Subscription[m.length - 1];
                    System.arraycopy(m, 0, n, 0, i);
                    System.arraycopy(m, i + 1, n, i, m.length - i - 1);
                    members = n;
                    return;
                }
            }
        }

        void wake() {
            if (scheduled.compareAndSet(false, true)) {
                loop.execute(this);
            }
        }

        @Override
        public void run() {
            scheduled.set(false);
            for (Subscription s : members) {
                if (s.active) {
                    s.connection.deliver(s);
                }
            }
        }

        void presence(ByteBuf push) {
            for (Subscription s : members) {
                if (s.active && s.presence) {
                    s.connection.sendPush(push.duplicate());
                    s.connection.flush();
                }
            }
        }
    }
}
