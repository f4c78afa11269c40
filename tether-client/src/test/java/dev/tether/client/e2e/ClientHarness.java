package dev.tether.client.e2e;

import static org.awaitility.Awaitility.await;

import dev.tether.client.Backoff;
import dev.tether.client.TetherClient;
import dev.tether.server.TetherServer;
import dev.tether.server.config.TetherConfig;
import dev.tether.testkit.FaultProxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** Starts real servers, proxies and clients on 127.0.0.1 for one test, and closes them all. */
final class ClientHarness implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(15);
    /** Quick reconnects so tests spend their time testing, not waiting. */
    static final Backoff FAST = Backoff.exponentialFullJitter(Duration.ofMillis(20), Duration.ofMillis(300));

    private final List<AutoCloseable> open = new ArrayList<>();

    TetherServer server(UnaryOperator<TetherConfig.Builder> tweak) throws Exception {
        TetherServer s = TetherServer.start(tweak.apply(TetherConfig.builder().host("127.0.0.1").port(0)
                .shutdownDrain(Duration.ofMillis(200))).build());
        open.add(() -> s.shutdown().join());
        return s;
    }

    TetherServer server() throws Exception {
        return server(b -> b);
    }

    FaultProxy proxy(TetherServer s) {
        FaultProxy p = FaultProxy.start(new InetSocketAddress("127.0.0.1", s.port()));
        open.add(p);
        return p;
    }

    static URI url(TetherServer s) {
        return URI.create(s.wsUrl());
    }

    static URI url(FaultProxy p) {
        return URI.create("ws://127.0.0.1:" + p.port() + "/ws");
    }

    /** A builder with fast reconnects; the client is closed at the end of the test. */
    TetherClient.Builder builder(URI url) {
        return TetherClient.builder().url(url).backoff(FAST).name("test");
    }

    TetherClient client(TetherClient.Builder b) {
        TetherClient c = b.build();
        open.add(() -> {
            c.cancel();
            c.closed().get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        });
        return c;
    }

    TetherClient client(URI url, EventLog log) {
        return client(builder(url).listener(log));
    }

    static void awaitState(TetherClient c, TetherClient.State state) {
        await("state " + state).atMost(WAIT).until(() -> c.state() == state);
    }

    @Override
    public void close() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // best effort: the next resource still gets closed
            }
        }
    }
}
