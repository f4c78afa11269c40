package dev.tether.testkit;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * Shared NIO event loops for the test kit. Threads are daemons, so a test JVM exits even
 * if a test forgets to close a client or proxy; the groups live as long as the JVM.
 */
final class EventLoops {

    /** Two threads: enough for tests on a 2-core machine without starving the server under test. */
    private static final int THREADS = 2;

    private EventLoops() {
    }

    /** The group {@link WsTestClient} uses when none is passed in. */
    static EventLoopGroup clients() {
        return ClientHolder.GROUP;
    }

    /** The group every {@link FaultProxy} runs on. */
    static EventLoopGroup proxies() {
        return ProxyHolder.GROUP;
    }

    private static EventLoopGroup newGroup(String name) {
        return new MultiThreadIoEventLoopGroup(
                THREADS, new DefaultThreadFactory(name, true), NioIoHandler.newFactory());
    }

    // Holder classes: each group is created on first use only.
    private static final class ClientHolder {
        static final EventLoopGroup GROUP = newGroup("tether-wsclient");
    }

    private static final class ProxyHolder {
        static final EventLoopGroup GROUP = newGroup("tether-proxy");
    }
}
