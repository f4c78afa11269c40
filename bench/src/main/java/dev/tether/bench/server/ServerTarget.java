package dev.tether.bench.server;

/**
 * The server a scenario measures: started by the benchmark as its own process (the honest way:
 * its CPU and memory are its own), in this JVM (smoke tests only), or already running.
 */
public interface ServerTarget extends AutoCloseable {

    /** {@code tether} or {@code baseline}. */
    String kind();

    String wsUrl();

    /** True when CPU and memory figures belong to the server alone (not shared with the generator). */
    boolean isolated();

    /** @param gc collect garbage first, so heap figures count live data only */
    ServerStats stats(boolean gc);

    @Override
    void close();
}
