package dev.tether.bench.jmh;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.HistoryPage;
import dev.tether.server.protocol.Json;
import dev.tether.server.protocol.StreamPosition;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** A history range read from the in-memory broker, alone and encoded as the {@code history} reply's fields. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HistoryReadBench {
    @Param({"100", "1000"})
    int limit;

    private MemoryBroker broker;
    private ChannelStream stream;
    private StreamPosition since;

    @Setup
    public void setUp() {
        broker = new MemoryBroker(c -> new TetherConfig.HistoryPolicy(1000, Duration.ofHours(1)), Duration.ofMinutes(5),
                Clock.systemUTC());
        stream = broker.open("chat:lobby");
        byte[] data = ("{\"text\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 1000; i++) {
            stream.append(new AppendRequest(data, null, "alice", "c-1")).join();
        }
        since = new StreamPosition(stream.top() - limit, stream.epoch());
    }

    @TearDown
    public void tearDown() {
        stream.close();
        broker.close();
    }

    @Benchmark
    public HistoryPage read() {
        return HistoryPage.read(stream, since, limit);
    }

    @Benchmark
    public int readAndEncode() {
        HistoryPage page = HistoryPage.read(stream, since, limit);
        ByteBuf buf = Json.write(ByteBufAllocator.DEFAULT, g -> {
            g.writeStartObject();
            page.writeFields(g);
            g.writeEndObject();
        });
        int n = buf.readableBytes();
        buf.release();
        return n;
    }
}
