package dev.tether.server.metrics;

import dev.tether.server.protocol.CloseCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Every figure the server reports, in one Prometheus registry. Hot-path counters are
 * {@link LongAdder}s (cheap from any thread), exposed as Prometheus counters.
 */
public final class TetherMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public final LongAdder publications = new LongAdder();
    public final LongAdder duplicatePublications = new LongAdder();
    public final LongAdder keyLimitRefusals = new LongAdder();
    public final LongAdder deliveries = new LongAdder();
    public final LongAdder acks = new LongAdder();
    public final LongAdder resumes = new LongAdder();
    public final LongAdder recoveriesOk = new LongAdder();
    public final LongAdder recoveriesFailed = new LongAdder();
    public final LongAdder slowConsumerEvents = new LongAdder();
    public final LongAdder bytesIn = new LongAdder();
    public final LongAdder bytesOut = new LongAdder();
    public final LongAdder framesIn = new LongAdder();
    public final LongAdder framesOut = new LongAdder();
    public final LongAdder protocolErrors = new LongAdder();
    private final Map<CloseCode, Counter> disconnects = new EnumMap<>(CloseCode.class);
    private final Map<Integer, Counter> otherCloses = new ConcurrentHashMap<>();

    public TetherMetrics() {
        counter("tether_publications", "publications stored", publications);
        counter("tether_publications_duplicate", "publishes answered from the idempotency window", duplicatePublications);
        counter("tether_publish_key_limit_refusals", "publishes with a new key refused because the channel remembers dedup-max-keys keys (or 1 GiB of them)",
                keyLimitRefusals);
        counter("tether_deliveries", "publications written to subscriber sockets", deliveries);
        counter("tether_acks", "acknowledgements received", acks);
        counter("tether_resumes", "sessions resumed", resumes);
        FunctionCounter.builder("tether_recoveries", recoveriesOk, LongAdder::sum).tag("result", "ok")
                .description("subscriptions recovered with since or on resume, by result (ok: nothing missing, failed: gap)")
                .register(registry);
        FunctionCounter.builder("tether_recoveries", recoveriesFailed, LongAdder::sum).tag("result", "failed")
                .description("subscriptions recovered with since or on resume, by result (ok: nothing missing, failed: gap)")
                .register(registry);
        counter("tether_slow_consumer_events", "connections found too slow (fell out of history or over the pending-write limit)",
                slowConsumerEvents);
        counter("tether_bytes_in", "WebSocket payload bytes received", bytesIn);
        counter("tether_bytes_out", "WebSocket payload bytes sent", bytesOut);
        counter("tether_frames_in", "WebSocket frames received", framesIn);
        counter("tether_frames_out", "WebSocket frames sent", framesOut);
        counter("tether_protocol_errors", "frames rejected as malformed", protocolErrors);
        for (CloseCode c : CloseCode.values()) {
            disconnects.put(c, Counter.builder("tether_disconnects").tag("code", Integer.toString(c.code()))
                    .description("connections closed by the server, by close code").register(registry));
        }
        new JvmMemoryMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
    }

    private void counter(String name, String help, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(help).register(registry);
    }

    /** Registers a counter whose running total is read on scrape from {@code obj}. */
    public <T> void counter(String name, String help, T obj, ToDoubleFunction<T> f) {
        FunctionCounter.builder(name, obj, f).description(help).register(registry);
    }

    /** Registers a gauge read on scrape (connections, sessions, ...). */
    public <T> void gauge(String name, String help, T obj, ToDoubleFunction<T> f) {
        Gauge.builder(name, obj, f).description(help).register(registry);
    }

    public void disconnect(CloseCode code) {
        disconnects.get(code).increment();
    }

    /** Closes with WebSocket codes (1003, 1007, 1009, ...) the server sends. */
    public void close(int code) {
        otherCloses.computeIfAbsent(code, c -> Counter.builder("tether_disconnects").tag("code", Integer.toString(c))
                .description("connections closed by the server, by close code").register(registry)).increment();
    }

    public double disconnectCount(CloseCode code) {
        return disconnects.get(code).count();
    }

    /** Server-initiated closes so far, by code (only codes that happened). */
    public Map<Integer, Long> disconnectsByCode() {
        Map<Integer, Long> out = new java.util.TreeMap<>();
        disconnects.forEach((code, counter) -> {
            if (counter.count() > 0) {
                out.put(code.code(), (long) counter.count());
            }
        });
        otherCloses.forEach((code, counter) -> out.put(code, (long) counter.count()));
        return out;
    }

    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
