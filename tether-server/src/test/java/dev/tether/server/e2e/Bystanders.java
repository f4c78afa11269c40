package dev.tether.server.e2e;

import static dev.tether.server.e2e.Harness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsTestClient;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two well-behaved clients that must not notice abuse by others: a publisher that keeps publishing
 * to a channel, and a watcher subscribed to it for as long as this object lives, which must get
 * every one of those publications, in offset order, and nothing else.
 */
final class Bystanders {
    private static final int PUBLISHED_DURING = 20;
    private final Harness h;
    private final String channel;
    private final WsTestClient watcher;
    private final WsTestClient publisher;
    /** What the publisher published, by the offset the server gave it. */
    private final Map<Long, String> published = new ConcurrentHashMap<>();
    private final AtomicInteger tags = new AtomicInteger();
    private long seen;

    Bystanders(Harness h, TetherServer server, String channel) {
        this.h = h;
        this.channel = channel;
        this.watcher = h.connected(server);
        h.ok(watcher, "subscribe", "\"channel\":\"" + channel + "\"");
        this.publisher = h.connected(server);
    }

    /** Publishes before {@code abuse}, keeps publishing while it runs, and waits for those publications. */
    void whilePublishing(Runnable abuse) {
        publish("before");
        CompletableFuture<Void> during = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < PUBLISHED_DURING; i++) {
                publish("during");
            }
        });
        try {
            abuse.run();
        } finally {
            assertThat(during).succeedsWithin(WAIT);
        }
    }

    /** Publishes once more, then checks the watcher got everything published so far and both still work. */
    void assertLostNothing() {
        publish("after");
        long last = published.keySet().stream().max(Long::compare).orElseThrow();
        while (seen < last) {
            JsonNode p = h.nextPub(watcher);
            assertThat(p.get("channel").asText()).isEqualTo(channel);
            assertThat(p.get("offset").asLong()).as("the publication after offset %d", seen).isEqualTo(seen + 1);
            assertThat(p.get("data").asText()).isEqualTo(published.get(seen + 1));
            seen++;
        }
        assertThat(watcher.all()).noneMatch(m -> m.contains("\"op\":\"error\"") || m.contains("\"op\":\"disconnect\""));
        assertThat(h.ok(watcher, "presence", "\"channel\":\"" + channel + "\"").get("clients")).hasSize(1);
        assertThat(watcher.isOpen()).isTrue();
        assertThat(publisher.isOpen()).isTrue();
    }

    private void publish(String phase) {
        String tag = phase + "-" + tags.incrementAndGet();
        long offset = h.ok(publisher, "publish", "\"channel\":\"" + channel + "\",\"data\":\"" + tag + "\"").get("offset").asLong();
        assertThat(published.put(offset, tag)).as("offset %d given twice", offset).isNull();
    }
}
