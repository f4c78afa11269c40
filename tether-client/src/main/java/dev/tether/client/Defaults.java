package dev.tether.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * Resources shared by every client that was not given its own: created on first use, daemon
 * threads, alive as long as the JVM.
 */
final class Defaults {
    private Defaults() {
    }

    /** The network threads. Few are needed: they only move bytes and parse JSON. */
    static EventLoopGroup eventLoops() {
        return Loops.GROUP;
    }

    /** Where listener calls and future completions run; grows with the number of busy listeners. */
    static ExecutorService callbacks() {
        return Callbacks.POOL;
    }

    private static final class Loops {
        static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(
                Math.min(2, Runtime.getRuntime().availableProcessors()),
                new DefaultThreadFactory("tether-client", true), NioIoHandler.newFactory());
    }

    private static final class Callbacks {
        static final ExecutorService POOL = Executors.newCachedThreadPool(new ThreadFactory() {
            private final java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "tether-callback-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            }
        });
    }
}
