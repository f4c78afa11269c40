package dev.tether.bench.loadgen;

import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import org.HdrHistogram.Histogram;

/** Several fleets (this process's and workers') seen as one. */
public final class MultiFleet implements Fleet {
    private final List<Fleet> parts;

    public MultiFleet(List<Fleet> parts) {
        this.parts = List.copyOf(parts);
    }

    private <T> T reduce(Function<Fleet, T> f, BinaryOperator<T> plus) {
        // Ask every part at once: a verify waits for its own drain.
        List<java.util.concurrent.CompletableFuture<T>> answers = parts.stream()
                .map(p -> java.util.concurrent.CompletableFuture.supplyAsync(() -> f.apply(p))).toList();
        return answers.stream().map(java.util.concurrent.CompletableFuture::join).reduce(plus).orElseThrow();
    }

    @Override
    public void open() {
        parts.forEach(Fleet::open);
    }

    @Override
    public Counts counts() {
        return reduce(Fleet::counts, Counts::plus);
    }

    @Override
    public Histogram takeLatency() {
        return reduce(Fleet::takeLatency, (a, b) -> {
            Histogram h = a.copy();
            h.add(b);
            return h;
        });
    }

    @Override
    public Verify verify(long[] tops, long timeoutMillis) {
        return reduce(p -> p.verify(tops, timeoutMillis), Verify::plus);
    }

    @Override
    public void cut(long spreadMillis) {
        parts.forEach(p -> p.cut(spreadMillis));
    }

    @Override
    public Storm takeStorm() {
        return reduce(Fleet::takeStorm, Storm::plus);
    }

    @Override
    public long cpuTicks() {
        return reduce(Fleet::cpuTicks, Long::sum);
    }

    @Override
    public void close() {
        parts.forEach(Fleet::close);
    }
}
