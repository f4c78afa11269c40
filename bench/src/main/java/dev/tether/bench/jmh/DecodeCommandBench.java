package dev.tether.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decoding one incoming command line: {@code Json.MAPPER.readTree} on the frame's bytes (ack, pong), and for
 * a publish also the stored copy of its {@code data}, the server's way and the way before change 22.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecodeCommandBench {
    private final byte[] publish = ("{\"id\":12345,\"op\":\"publish\",\"channel\":\"chat:lobby\",\"data\":{\"t\":123456789012345,\"p\":\""
            + "x".repeat(100) + "\"},\"key\":\"k-61f0-12345\"}").getBytes(StandardCharsets.UTF_8);
    private final byte[] ack = "{\"op\":\"ack\",\"channel\":\"chat:lobby\",\"offset\":123456}".getBytes(StandardCharsets.UTF_8);
    private final byte[] pong = "{\"op\":\"pong\"}".getBytes(StandardCharsets.UTF_8);

    @Benchmark
    public JsonNode publish() throws IOException {
        return Json.MAPPER.readTree(publish, 0, publish.length);
    }

    /**
     * What the server does with a publish line since change 22: the message read with its
     * {@code data} kept as raw bytes, and those bytes made the stored copy.
     */
    @Benchmark
    public byte[] publishRawData() throws IOException {
        JsonNode msg = Json.readMessage(publish, 0, publish.length, "data");
        return Json.rawBytes(msg.get("data"));
    }

    /** What it did until change 22: a whole tree, and the {@code data} subtree written out again. */
    @Benchmark
    public byte[] publishTreeAndReencode() throws IOException {
        JsonNode msg = Json.MAPPER.readTree(publish, 0, publish.length);
        return Json.MAPPER.writeValueAsBytes(msg.get("data"));
    }

    @Benchmark
    public JsonNode ack() throws IOException {
        return Json.MAPPER.readTree(ack, 0, ack.length);
    }

    /** An ack as the server reads it since change 22. */
    @Benchmark
    public JsonNode ackAsRead() throws IOException {
        return Json.readMessage(ack, 0, ack.length, "data");
    }

    /** A pong parsed; the server itself answers the exact {@code {"op":"pong"}} frame without parsing it. */
    @Benchmark
    public JsonNode pong() throws IOException {
        return Json.MAPPER.readTree(pong, 0, pong.length);
    }
}
