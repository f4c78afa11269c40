package dev.tether.bench.jmh;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.Connection;
import dev.tether.server.hub.Hub;
import dev.tether.server.metrics.TetherMetrics;
import dev.tether.server.presence.MemoryPresence;
import dev.tether.server.session.MemorySessionStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
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

/**
 * Fan-out of one publication to N local subscribers, without sockets: each subscriber is a real
 * {@link Connection} in an {@link EmbeddedChannel}; one op = store, wake, deliver to all N, and
 * collect the frames. {@code rawNetty} writes one shared frame's duplicates to N channels, the
 * baseline server's inner loop, for scale.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FanoutBench {
    @Param({"100", "1000"})
    int subscribers;

    private Hub hub;
    private EmbeddedChannel[] channels;
    private byte[] data;
    private ByteBuf shared;

    @Setup
    public void setUp() {
        TetherConfig config = TetherConfig.builder().build();
        Clock clock = Clock.systemUTC();
        hub = new Hub(config, new MemoryBroker(config::historyFor, config.dedupWindow(), clock), new MemoryPresence(),
                new MemorySessionStore(clock), new TetherMetrics(), clock);
        channels = new EmbeddedChannel[subscribers];
        for (int i = 0; i < subscribers; i++) {
            EmbeddedChannel ch = new EmbeddedChannel(new Connection(hub));
            ch.pipeline().fireUserEventTriggered(
                    new WebSocketServerProtocolHandler.HandshakeComplete("/ws", EmptyHttpHeaders.INSTANCE, null));
            ch.writeInbound(new TextWebSocketFrame("{\"id\":1,\"op\":\"connect\"}\n{\"id\":2,\"op\":\"subscribe\",\"channel\":\"bench\"}"));
            ch.runPendingTasks();
            drain(ch);
            channels[i] = ch;
        }
        data = ("{\"t\":123456789012345,\"p\":\"" + "x".repeat(99) + "\"}").getBytes(StandardCharsets.UTF_8);
        shared = Unpooled.unreleasableBuffer(Unpooled.directBuffer(200).writeBytes(data));
    }

    private static int drain(EmbeddedChannel ch) {
        int n = 0;
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ReferenceCountUtil.release(o);
            n++;
        }
        return n;
    }

    @TearDown
    public void tearDown() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        hub.close();
    }

    @Benchmark
    public int tether() {
        hub.publish("bench", new AppendRequest(data, null, "", "c-1")).join();
        int n = 0;
        for (EmbeddedChannel ch : channels) {
            ch.runPendingTasks();
            n += drain(ch);
        }
        return n;
    }

    @Benchmark
    public int rawNetty() {
        int n = 0;
        for (EmbeddedChannel ch : channels) {
            ch.writeOneOutbound(new TextWebSocketFrame(shared.duplicate()));
            ch.flushOutbound();
            n += drain(ch);
        }
        return n;
    }
}
