package dev.tether.bench.server;

/** The server in the benchmark's own JVM: quick for smoke tests, but CPU and memory are shared. */
public final class InProcessServer implements ServerTarget {
    private final String kind;
    private final RunningServer server;

    public InProcessServer(ServerOptions options) {
        this.kind = options.kind();
        try {
            this.server = RunningServer.start(options);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + kind, e);
        }
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public String wsUrl() {
        return server.wsUrl();
    }

    @Override
    public boolean isolated() {
        return false;
    }

    @Override
    public ServerStats stats(boolean gc) {
        return server.stats(gc);
    }

    @Override
    public void close() {
        server.close();
    }
}
