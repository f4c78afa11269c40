package dev.tether.server.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.WsTestClient;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test-only subscriber that does what PROTOCOL.md asks of a client: reconnects, resumes its
 * session, re-subscribes with {@code since} when the session is gone, acks, answers pings and
 * drops re-deliveries at or below the last offset it handed to the "application". It counts
 * everything so a test can print and check it. Runs on its own thread.
 */
final class ResilientSubscriber implements AutoCloseable {
    private static final int ACK_EVERY = 16;
    private final URI uri;
    private final String channel;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch subscribedOnce = new CountDownLatch(1);
    private final Thread thread;
    private final AtomicLong ids = new AtomicLong();

    /** Owner: the subscriber's thread; read by the test after {@link #close()} or via volatile fields. */
    private final List<Long> delivered = Collections.synchronizedList(new ArrayList<>());
    private volatile long last;
    private volatile long redelivered;
    private volatile long lost;
    private volatile int connects;
    private volatile int resumes;
    private String session;
    private String epoch;
    private long acked;
    private volatile Throwable failure;

    ResilientSubscriber(URI uri, String channel, String name) {
        this.uri = uri;
        this.channel = channel;
        this.thread = new Thread(this::run, "resilient-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    void awaitSubscribed(Duration timeout) throws InterruptedException {
        if (!subscribedOnce.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("subscriber never subscribed");
        }
    }

    private void run() {
        try {
            while (stop.getCount() > 0) {
                WsTestClient ws;
                try {
                    ws = WsTestClient.connect(uri);
                } catch (RuntimeException e) {
                    backoff();
                    continue;
                }
                try {
                    session(ws);
                } catch (RuntimeException | AssertionError e) {
                    // The connection was cut mid-conversation: start over, the session survives.
                } finally {
                    ws.abort();
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    private void backoff() throws InterruptedException {
        stop.await(20 + (long) (Math.random() * 30), TimeUnit.MILLISECONDS);
    }

    /** One connection's life: connect (resume), subscribe if needed, then read until it drops. */
    private void session(WsTestClient ws) {
        connects++;
        JsonNode r = ws.request("{\"id\":" + ids.incrementAndGet() + ",\"op\":\"connect\",\"name\":\"resilient\""
                + (session == null ? "" : ",\"session\":\"" + session + "\"") + "}", Duration.ofSeconds(5)).get("result");
        session = r.get("session").asText();
        if (r.get("resumed").asBoolean()) {
            resumes++;
            for (JsonNode s : r.get("subscriptions")) {
                if (!s.get("recovered").asBoolean()) {
                    throw new IllegalStateException("resume reported a gap: " + s);
                }
            }
        } else {
            String since = epoch == null ? "" : ",\"since\":{\"offset\":" + last + ",\"epoch\":\"" + epoch + "\"}";
            JsonNode s = ws.request("{\"id\":" + ids.incrementAndGet() + ",\"op\":\"subscribe\",\"channel\":\"" + channel
                    + "\"" + since + "}", Duration.ofSeconds(5)).get("result");
            epoch = s.get("epoch").asText();
            if (s.has("gap")) {
                throw new IllegalStateException("subscribe reported a gap: " + s);
            }
            // Acking at once marks the subscription as acknowledged, so a resume replays from the
            // last ack instead of from the last offset written (best effort) - see docs/protocol.md.
            ws.send("{\"op\":\"ack\",\"channel\":\"" + channel + "\",\"offset\":" + last + "}");
        }
        subscribedOnce.countDown();
        while (stop.getCount() > 0 && ws.isOpen()) {
            JsonNode m = ws.pollJson(Duration.ofMillis(50));
            if (m == null) {
                ack(ws);
                continue;
            }
            switch (m.path("op").asText()) {
                case "pub" -> onPub(ws, m.get("offset").asLong());
                case "ping" -> ws.send("{\"op\":\"pong\"}");
                default -> {
                }
            }
        }
    }

    private void onPub(WsTestClient ws, long offset) {
        if (offset <= last) {
            redelivered++;
            return;
        }
        if (offset != last + 1) {
            lost += offset - last - 1;
        }
        last = offset;
        delivered.add(offset);
        if (last - acked >= ACK_EVERY) {
            ack(ws);
        }
    }

    private void ack(WsTestClient ws) {
        if (last > acked) {
            ws.send("{\"op\":\"ack\",\"channel\":\"" + channel + "\",\"offset\":" + last + "}");
            acked = last;
        }
    }

    long last() {
        return last;
    }

    List<Long> delivered() {
        synchronized (delivered) {
            return new ArrayList<>(delivered);
        }
    }

    long redelivered() {
        return redelivered;
    }

    long lost() {
        return lost;
    }

    int connects() {
        return connects;
    }

    int resumes() {
        return resumes;
    }

    Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws InterruptedException {
        stop.countDown();
        thread.join(10_000);
    }
}
