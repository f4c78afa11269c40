package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The queue of commands that survive reconnects, on a fake clock and connections that are never
 * opened: a command sent on one is registered there (its reply handler can be taken) but goes
 * nowhere.
 */
class RequestQueueTest {
    private final FakeScheduler scheduler = new FakeScheduler();
    private final RequestQueue queue = new RequestQueue(scheduler, Runnable::run, 120_000);
    private long connections;

    private Connection connection() {
        return new Connection(++connections, URI.create("ws://127.0.0.1:9/ws"), null);
    }

    private static ObjectNode publish() {
        return Json.object().put("op", "publish").put("channel", "c").put("data", 1).put("key", "k-1");
    }

    private static JsonNode keyLimit(long retryAfterMillis) {
        ObjectNode reply = Json.object().put("id", 1);
        reply.putObject("error").put("code", 107).put("message", "the channel remembers too many keys")
                .put("temporary", true).put("retryAfter", retryAfterMillis);
        return reply;
    }

    /** G2: a 107 is sent again after retryAfter, not before, also when a new connection comes first. */
    @Test
    void aRefusedCommandWaitsOutRetryAfterAcrossAReconnect() {
        CompletableFuture<JsonNode> future = new CompletableFuture<>();
        Connection first = connection();
        queue.connected(first);
        queue.submit(publish(), r -> r, future);
        first.takeReply(1).accept(keyLimit(30_000));

        queue.disconnected();
        Connection second = connection();
        queue.connected(second);
        assertThat(second.takeReply(1)).as("not resent before retryAfter").isNull();

        scheduler.advance(29_999);
        assertThat(second.takeReply(1)).isNull();
        scheduler.advance(1);
        var handler = second.takeReply(1);
        assertThat(handler).as("resent once retryAfter has passed").isNotNull();
        handler.accept(Json.object().put("id", 1).set("result", Json.object().put("offset", 7)));
        assertThat(future).isCompletedWithValueMatching(r -> r.path("offset").asLong() == 7);
    }

    @Test
    void dataJacksonCannotWriteFailsTheFutureInsteadOfTheLoop() {
        CompletableFuture<JsonNode> future = new CompletableFuture<>();
        queue.connected(connection());
        ObjectNode cmd = publish();
        cmd.putPOJO("data", new Object() {
            @SuppressWarnings("unused")
            public Object getSelf() {
                throw new IllegalStateException("cannot be written");
            }
        });
        queue.submit(cmd, r -> r, future);
        assertThat(future).isCompletedExceptionally();
    }
}
