package dev.tether.server.cli;

import dev.tether.server.TetherServer;
import dev.tether.server.config.TetherConfig;
import java.util.concurrent.CompletableFuture;

/** What {@code serve} needs of a running server; an interface so that tests can run serve against a fake. */
public interface ServerHandle {
    /** Starts a graceful drain (PROTOCOL.md section 14); completes when everything is closed. */
    CompletableFuture<Void> shutdown();

    /** Completes when the server has fully stopped, whatever the reason. */
    CompletableFuture<Void> terminated();

    /** Binds and starts a server. */
    @FunctionalInterface
    interface Launcher {
        ServerHandle start(TetherConfig config) throws Exception;
    }

    /** The real server. */
    static ServerHandle startTether(TetherConfig config) throws Exception {
        TetherServer server = TetherServer.start(config);
        return new ServerHandle() {
            @Override
            public CompletableFuture<Void> shutdown() {
                return server.shutdown();
            }

            @Override
            public CompletableFuture<Void> terminated() {
                return server.terminated();
            }
        };
    }
}
