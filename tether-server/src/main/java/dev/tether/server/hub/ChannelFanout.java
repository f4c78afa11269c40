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
        final EventLoop loop;
        private final AtomicBoolean scheduled = new AtomicBoolean();
        /**
         * Dense array with swap-removal ({@link Subscription#fanoutSlot} is each member's index), so
         * joining and leaving cost O(1) and no copy, even with tens of thousands of subscribers.
         */
        private Subscription[] members = new Subscription[4];
        private int size;

        LoopGroup(EventLoop loop) {
            this.loop = loop;
        }

        void add(Subscription s) {
            if (size == members.length) {
                members = Arrays.copyOf(members, size * 2);
            }
            s.fanoutSlot = size;
            members[size++] = s;
        }

        void remove(Subscription s) {
            int slot = s.fanoutSlot;
            if (slot < 0 || slot >= size || members[slot] != s) {
                return;
            }
            Subscription last = members[--size];
            members[slot] = last;
            last.fanoutSlot = slot;
            members[size] = null;
            s.fanoutSlot = -1;
            if (members.length > 16 && size < members.length / 4) {
                members = Arrays.copyOf(members, members.length / 2);
            }
        }

        void wake() {
            if (scheduled.compareAndSet(false, true)) {
                loop.execute(this);
            }
        }

        /*
         * Both passes walk downwards: a member that leaves during its own delivery swaps in one that
         * was already visited, so nobody is skipped (at worst one is visited twice, which is harmless
         * because delivery reads forward from the member's own position).
         */

        @Override
        public void run() {
            scheduled.set(false);
            for (int i = size - 1; i >= 0; i--) {
                if (i < size) {
                    Subscription s = members[i];
                    if (s.active) {
                        s.connection.deliver(s);
                    }
                }
            }
        }

        void presence(ByteBuf push) {
            for (int i = size - 1; i >= 0; i--) {
                if (i < size) {
                    Subscription s = members[i];
                    if (s.active && s.presence) {
                        s.connection.sendPush(push.duplicate());
                        s.connection.flush();
                    }
                }
            }
        }
    }
}
