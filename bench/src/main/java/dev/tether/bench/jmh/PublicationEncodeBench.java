package dev.tether.bench.jmh;

import dev.tether.server.broker.Publication;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Encoding a publication's {@code pub} push once (the {@link Publication} constructor). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PublicationEncodeBench {
    @Param({"128", "4096"})
    int payload;

    private byte[] data;
    private long offset;

    @Setup
    public void setUp() {
        data = ("{\"t\":123456789012345,\"p\":\"" + "x".repeat(Math.max(0, payload - 29)) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Benchmark
    public Publication encode() {
        return new Publication("chat:lobby", ++offset, 1_763_800_000_000L, data, "alice", "c-5f2a9b3c1d7e");
    }
}
