package dev.tether.bench.server;

import dev.tether.server.config.MemoryLimit;
import java.util.ArrayList;
import java.util.List;

/**
 * How the server under test is started: which kind, and the few settings the scenarios change.
 *
 * @param kind {@code tether} or {@code baseline}
 * @param pingMillis server ping interval (both kinds ping)
 * @param pongMillis Tether's pong timeout
 * @param historySize Tether's history per channel
 * @param historyMemory Tether's history-memory
 * @param ioThreads Tether's io-threads (0 = its default)
 */
public record ServerOptions(String kind, long pingMillis, long pongMillis, int historySize, MemoryLimit historyMemory,
                            int ioThreads) {

    public ServerOptions {
        if (!kind.equals("tether") && !kind.equals("baseline")) {
            throw new IllegalArgumentException("server kind must be tether or baseline, got " + kind);
        }
    }

    public ServerOptions withKind(String k) {
        return new ServerOptions(k, pingMillis, pongMillis, historySize, historyMemory, ioThreads);
    }

    List<String> toArgs() {
        List<String> a = new ArrayList<>();
        a.add(kind);
        a.add(Long.toString(pingMillis));
        a.add(Long.toString(pongMillis));
        a.add(Integer.toString(historySize));
        a.add(historyMemory.toString());
        a.add(Integer.toString(ioThreads));
        return a;
    }

    static ServerOptions fromArgs(String[] a) {
        return new ServerOptions(a[0], Long.parseLong(a[1]), Long.parseLong(a[2]), Integer.parseInt(a[3]),
                MemoryLimit.parse(a[4]), Integer.parseInt(a[5]));
    }
}
