package dev.tether.bench.scenario;

import dev.tether.bench.loadgen.Fleet;
import dev.tether.bench.loadgen.FleetSpec;
import dev.tether.bench.loadgen.LocalFleet;
import dev.tether.bench.loadgen.MultiFleet;
import dev.tether.bench.loadgen.RemoteFleet;
import dev.tether.bench.server.ExternalServer;
import dev.tether.bench.server.InProcessServer;
import dev.tether.bench.server.ServerOptions;
import dev.tether.bench.server.ServerTarget;
import dev.tether.bench.server.SpawnedServer;
import dev.tether.server.config.MemoryLimit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Option;

/** Options every scenario shares: where the server runs, how the generator connects, where results go. */
public final class Common {
    @Option(names = "--server", defaultValue = "spawn", description = "spawn (own process, default), inproc (same JVM; smoke tests) or external (--url, --server-pid).")
    String server;

    @Option(names = "--url", description = "WebSocket URL of an external server, e.g. ws://127.0.0.1:8080/ws.")
    String url;

    @Option(names = "--server-pid", defaultValue = "0", description = "Process id of the external server, for its RSS and CPU.")
    long serverPid;

    @Option(names = "--server-cpus", description = "CPU list the spawned server is pinned to (taskset -c), e.g. 0.")
    String serverCpus;

    @Option(names = "--worker-cpus", description = "CPU list for extra generator processes (taskset -c).")
    String workerCpus;

    @Option(names = "--server-jvm", defaultValue = "-Xms1g -Xmx1g -XX:+UseG1GC -Xmn16m -XX:TrimNativeHeapInterval=5000",
            description = "JVM options of the spawned server, both kinds (default: ${DEFAULT-VALUE}: bin/tether's"
                    + " collector settings with a fixed 1 GiB heap).")
    String serverJvm;

    @Option(names = "--ping-ms", defaultValue = "25000", description = "Server ping interval in ms (default ${DEFAULT-VALUE}).")
    long pingMillis;

    @Option(names = "--pong-ms", defaultValue = "10000", description = "Tether pong timeout in ms (default ${DEFAULT-VALUE}).")
    long pongMillis;

    @Option(names = "--history", defaultValue = "1000", description = "Tether history size per channel (default ${DEFAULT-VALUE}).")
    int historySize;

    @Option(names = "--history-memory", defaultValue = "75%", description = "Tether history-memory (default"
            + " ${DEFAULT-VALUE} of the server's heap: a 10 s keyed publish run at full rate remembers over a million"
            + " keys, more than half of the server's own default of 25%% of a 1 GiB heap holds).")
    String historyMemory;

    @Option(names = "--io-threads", defaultValue = "0", description = "Tether io-threads (default ${DEFAULT-VALUE}: the"
            + " server's own default).")
    int ioThreads;

    @Option(names = "--client-threads", defaultValue = "0", description = "Event loops per generator process; 0 = the CPUs this process may use (default).")
    int clientThreads;

    @Option(names = "--connect-rate", defaultValue = "4000", description = "New connections per second, at most (default ${DEFAULT-VALUE}).")
    int connectRate;

    @Option(names = "--max-connecting", defaultValue = "500", description = "Handshakes in flight, at most (default ${DEFAULT-VALUE}).")
    int maxConnecting;

    @Option(names = "--source-addrs", defaultValue = "250", description = "Loopback source addresses 127.0.0.1..N (default ${DEFAULT-VALUE}).")
    int sourceAddrs;

    @Option(names = "--procs", defaultValue = "1", description = "Generator processes sharing the subscribers (default ${DEFAULT-VALUE}); each is capped by the open-file limit.")
    int procs;

    @Option(names = "--json-out", description = "Append the JSON result line to this file too.")
    Path jsonOut;

    @Option(names = "--label", defaultValue = "", description = "Free text stored in the JSON line (e.g. run number).")
    String label;

    @Option(names = "--log-dir", defaultValue = "${sys:java.io.tmpdir}/tether-bench", description = "Where server and worker logs go (default ${DEFAULT-VALUE}).")
    Path logDir;

    ServerOptions serverOptions(String kind) {
        return new ServerOptions(kind, pingMillis, pongMillis, historySize, MemoryLimit.parse(historyMemory), ioThreads);
    }

    /** Starts (or attaches to) the server under test. */
    ServerTarget startServer(String kind) {
        return switch (server) {
            case "spawn" -> new SpawnedServer(serverOptions(kind), serverCpus, jvmOptions(serverJvm), log(kind + "-server"));
            case "inproc" -> new InProcessServer(serverOptions(kind));
            case "external" -> {
                if (url == null) {
                    throw new IllegalArgumentException("--server external needs --url");
                }
                yield new ExternalServer(url, serverPid);
            }
            default -> throw new IllegalArgumentException("--server must be spawn, inproc or external, not " + server);
        };
    }

    static List<String> jvmOptions(String s) {
        return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }

    Path log(String name) {
        try {
            Files.createDirectories(logDir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return logDir.resolve(name + ".log");
    }

    FleetSpec spec(String wsUrl, int subscribers, int subsPerClient, int channels, String prefix, int ackMillis) {
        int threads = clientThreads > 0 ? clientThreads : Runtime.getRuntime().availableProcessors();
        return new FleetSpec(wsUrl, 0, subscribers, subsPerClient, channels, prefix, threads, sourceAddrs,
                connectRate, maxConnecting, ackMillis);
    }

    /** This process's fleet (which also holds the publishers) and the whole fleet, split over {@code --procs}. */
    record Fleets(LocalFleet local, Fleet all) implements AutoCloseable {
        @Override
        public void close() {
            all.close();
        }
    }

    Fleets fleets(FleetSpec spec) {
        int n = Math.max(1, procs);
        int per = (spec.subscribers() + n - 1) / n;
        LocalFleet local = new LocalFleet(spec.slice(0, Math.min(per, spec.subscribers())));
        List<Fleet> parts = new ArrayList<>();
        parts.add(local);
        for (int p = 1; p < n; p++) {
            int first = p * per;
            int count = Math.max(0, Math.min(per, spec.subscribers() - first));
            if (count > 0) {
                parts.add(new RemoteFleet(spec.slice(first, count), workerCpus, List.of("-Xmx1g"), log("worker-" + p)));
            }
        }
        return new Fleets(local, parts.size() == 1 ? local : new MultiFleet(parts));
    }

    /** Waits until {@code done} holds or {@code timeoutMillis} passes; returns whether it holds. */
    static boolean await(BooleanSupplier done, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            sleep(100);
        }
        return true;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static void progress(String format, Object... args) {
        System.err.printf("[bench] " + format + "%n", args);
    }

    List<String> targets(String target) {
        return switch (target) {
            case "both" -> List.of("baseline", "tether");
            case "tether", "baseline" -> List.of(target);
            default -> throw new IllegalArgumentException("--target must be tether, baseline or both, not " + target);
        };
    }
}
