package dev.tether.server.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.server.broker.memory.MemoryBroker;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.metrics.TetherMetrics;
import dev.tether.server.presence.MemoryPresence;
import dev.tether.server.session.MemorySessionStore;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection's entry in its loop's heartbeat sweep, on a real {@link Connection} in an
 * {@link EmbeddedChannel}: after a ping it is the pong deadline, and the pong moves it to the next
 * ping at once, so the sweep does not visit the connection at the old deadline for nothing.
 */
class ConnectionHeartbeatTest {
    private Hub hub;
    private Connection connection;
    private EmbeddedChannel ch;

    @BeforeEach
    void connect() {
        TetherConfig config = TetherConfig.builder()
                .pingInterval(Duration.ofSeconds(2))
                .pongTimeout(Duration.ofMillis(250))
                .build();
        Clock clock = Clock.systemUTC();
        hub = new Hub(config, new MemoryBroker(config::historyFor, config.dedupWindow(), clock), new MemoryPresence(),
                new MemorySessionStore(clock), new TetherMetrics(), clock);
        connection = new Connection(hub);
        ch = new EmbeddedChannel(connection);
        ch.pipeline().fireUserEventTriggered(
                new WebSocketServerProtocolHandler.HandshakeComplete("/ws", EmptyHttpHeaders.INSTANCE, null));
        ch.writeInbound(new TextWebSocketFrame("{\"id\":1,\"op\":\"connect\"}"));
        ch.runPendingTasks();
        assertThat(drain()).contains("\"id\":1");
    }

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
        hub.close();
    }

    /** Everything written so far, as text (raw pre-framed bytes keep their two header bytes). */
    private String drain() {
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            try {
                if (o instanceof TextWebSocketFrame text) {
                    out.append(text.text());
                } else if (o instanceof ByteBuf raw) {
                    out.append(raw.toString(StandardCharsets.ISO_8859_1));
                }
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
        return out.toString();
    }

    private long dueInMillis() {
        long due = hub.heartbeats(ch.eventLoop()).dueOf(connection).orElseThrow();
        return TimeUnit.NANOSECONDS.toMillis(due - System.nanoTime());
    }

    @Test
    void aPongMovesTheSweepEntryFromThePongDeadlineToTheNextPing() {
        // The sweep is a scheduled task of the channel's loop; run it until it has pinged. The
        // pong timeout is shorter than the ping interval, as by default (10 s and 25 s).
        StringBuilder seen = new StringBuilder();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            ch.runScheduledPendingTasks();
            seen.append(drain());
            return seen.toString().contains("{\"op\":\"ping\"}");
        });
        assertThat(dueInMillis()).as("after the ping: the pong deadline, at most 250 ms away").isLessThanOrEqualTo(250);

        ch.writeInbound(new TextWebSocketFrame("{\"op\":\"pong\"}"));

        // The next ping is 2 s after this one (the ping was seen within ~0.1 s of being sent); the
        // sweep has not run since. Without the move the entry would still be the pong deadline.
        assertThat(dueInMillis()).as("after the pong: the next ping").isGreaterThan(1000);
    }
}
