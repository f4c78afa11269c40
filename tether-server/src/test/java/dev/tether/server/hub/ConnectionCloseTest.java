package dev.tether.server.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.metrics.TetherMetrics;
import dev.tether.server.presence.MemoryPresence;
import dev.tether.server.session.MemorySessionStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Once a {@link Connection} has written its close frame, RFC 6455 (5.5.1) allows nothing after
 * it: no replies, no publications, no pong. Checked on a real {@code Connection} in an
 * {@link EmbeddedChannel}, where every write can be seen in order (over a socket the peer would
 * only see a closed connection, whatever came after).
 */
class ConnectionCloseTest {
    private Hub hub;
    private EmbeddedChannel ch;

    @BeforeEach
    void connectAndSubscribe() {
        TetherConfig config = TetherConfig.builder().build();
        Clock clock = Clock.systemUTC();
        hub = new Hub(config, new MemoryBroker(config::historyFor, config.dedupWindow(), clock), new MemoryPresence(),
                new MemorySessionStore(clock), new TetherMetrics(), clock);
        ch = new EmbeddedChannel(new Connection(hub));
        ch.pipeline().fireUserEventTriggered(
                new WebSocketServerProtocolHandler.HandshakeComplete("/ws", EmptyHttpHeaders.INSTANCE, null));
        ch.writeInbound(new TextWebSocketFrame("{\"id\":1,\"op\":\"connect\"}\n{\"id\":2,\"op\":\"subscribe\",\"channel\":\"news\"}"));
        ch.runPendingTasks();
        assertThat(String.join("", drain())).contains("\"id\":1").contains("\"id\":2");
    }

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
        hub.close();
    }

    /** Outbound messages as text: frames by their content, raw pre-framed bytes as they are. */
    private List<String> drain() {
        List<String> out = new ArrayList<>();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            try {
                if (o instanceof CloseWebSocketFrame close) {
                    out.add("CLOSE " + close.statusCode());
                } else if (o instanceof TextWebSocketFrame text) {
                    out.add(text.text());
                } else if (o instanceof ByteBuf raw) {
                    out.add(raw.toString(StandardCharsets.ISO_8859_1));
                } else {
                    out.add(o.getClass().getSimpleName());
                }
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
        return out;
    }

    @Test
    void nothingIsWrittenAfterTheCloseFrame() {
        hub.publish("news", new AppendRequest("{\"n\":1}".getBytes(StandardCharsets.UTF_8), null, "", "c-x")).join();
        ch.runPendingTasks();
        assertThat(String.join("", drain())).as("delivered while open").contains("{\"n\":1}");

        ch.writeInbound(new TextWebSocketFrame("{\"op\":42}")); // a protocol violation: error push, then close 4500
        ch.runPendingTasks();
        List<String> closing = drain();
        assertThat(closing).last().isEqualTo("CLOSE 4500");

        // The peer has not answered the close frame yet; the channel is still open for it.
        assertThat(ch.isOpen()).isTrue();
        hub.publish("news", new AppendRequest("{\"n\":2}".getBytes(StandardCharsets.UTF_8), null, "", "c-x")).join();
        ch.writeInbound(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2})));
        ch.writeInbound(new TextWebSocketFrame("{\"id\":3,\"op\":\"presence\",\"channel\":\"news\"}"));
        ch.runPendingTasks();
        assertThat(drain()).as("written after the close frame").isEmpty();
    }
}
