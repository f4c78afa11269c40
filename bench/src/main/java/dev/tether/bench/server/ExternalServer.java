package dev.tether.bench.server;

import dev.tether.server.transport.Transport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A server someone else started (for example {@code tether serve}): memory and CPU come from
 * /proc of {@code pid}, heap, direct memory, connections and deliveries from its {@code /metrics}.
 * Heap figures are as they are (no forced GC), so they include garbage.
 */
public final class ExternalServer implements ServerTarget {
    private final String wsUrl;
    private final long pid;
    private final URI metrics;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ExternalServer(String wsUrl, long pid) {
        this.wsUrl = wsUrl;
        this.pid = pid;
        URI u = URI.create(wsUrl);
        if (!"127.0.0.1".equals(u.getHost()) && !"localhost".equals(u.getHost())) {
            throw new IllegalArgumentException("only servers on 127.0.0.1 are measured, not " + u.getHost());
        }
        this.metrics = URI.create("http://127.0.0.1:" + u.getPort() + "/metrics");
    }

    @Override
    public String kind() {
        return "tether";
    }

    @Override
    public String wsUrl() {
        return wsUrl;
    }

    @Override
    public boolean isolated() {
        return pid > 0;
    }

    @Override
    public ServerStats stats(boolean gc) {
        String text;
        try {
            text = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            text = "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            text = "";
        }
        long heap = (long) sum(text, "jvm_memory_used_bytes{area=\"heap\"");
        long direct = (long) sum(text, "jvm_buffer_memory_used_bytes{id=\"direct\"");
        long connections = (long) sum(text, "tether_connections ");
        long deliveries = (long) sum(text, "tether_deliveries_total");
        return new ServerStats(heap, direct, -1, pid > 0 ? ProcStats.rssKib(pid) : -1,
                pid > 0 ? ProcStats.cpuTicks(pid) : -1, pid > 0 ? ProcStats.threadCpuNanos(pid, Transport.IO_THREADS) : -1,
                connections, deliveries, pid > 0 ? ProcStats.openFiles(pid) : -1);
    }

    /** Sums the values of the Prometheus lines starting with {@code prefix}. */
    private static double sum(String text, String prefix) {
        double total = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    @Override
    public void close() {
        // not ours to stop
    }
}
