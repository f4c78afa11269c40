package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands that must get an answer however often the connection drops: {@code publish},
 * {@code history} and {@code presence}. A command is sent on the current connection, and again
 * on each new one until it is answered or its timeout passes; a {@code publish} keeps its
 * idempotency key, so the server stores it once however often it arrives. Each future
 * completes exactly once, on the callback executor.
 *
 * <p>Owner: the client's event loop; every method runs there.
 */
final class RequestQueue {
    private static final Logger log = LoggerFactory.getLogger(RequestQueue.class);
    /** Delay before resending after a temporary error that named no {@code retryAfter}. */
    static final long TEMPORARY_RETRY_MILLIS = 500;
    /** Room for {@code "id":N} and the separator in a frame. */
    private static final int ENVELOPE_BYTES = 32;

    private final Scheduler scheduler;
    private final Executor completions;
    private final long timeoutMillis;
    /** Unanswered commands in submission order. */
    private final Map<Long, Request<?>> unanswered = new LinkedHashMap<>();
    private long lastSeq;
    /** The connection with a successful {@code connect} result, or null. */
    private Connection conn;

    RequestQueue(Scheduler scheduler, Executor completions, long timeoutMillis) {
        this.scheduler = scheduler;
        this.completions = completions;
        this.timeoutMillis = timeoutMillis;
    }

    private static final class Request<T> {
        final long seq;
        final ObjectNode fields;
        final Function<JsonNode, T> parse;
        final CompletableFuture<T> future;
        Scheduler.Cancellable timeout;
        /** The connection it was last sent on; a new connection sends it again. */
        Connection sentOn;
        int sends;
        /** A temporary refusal's retryAfter has not passed yet: a new connection does not send it. */
        boolean retryPending;

        Request(long seq, ObjectNode fields, Function<JsonNode, T> parse, CompletableFuture<T> future) {
            this.seq = seq;
            this.fields = fields;
            this.parse = parse;
            this.future = future;
        }

        String describe() {
            return fields.path("op").asText() + " " + fields.path("channel").asText();
        }
    }

    /** Queues a command; {@code parse} turns its {@code result} into the value {@code future} completes with. */
    <T> void submit(ObjectNode fields, Function<JsonNode, T> parse, CompletableFuture<T> future) {
        Request<T> r = new Request<>(++lastSeq, fields, parse, future);
        int size;
        try {
            size = Connection.encode(fields).length + ENVELOPE_BYTES;
        } catch (RuntimeException e) {
            finish(r, null, e); // data Jackson cannot write: fail the future rather than the loop task
            return;
        }
        if (size > Connection.MAX_FRAME_BYTES) {
            finish(r, null, new TetherException(TetherException.TOO_LARGE_TO_SEND,
                    r.describe() + " is " + size + " bytes, more than the " + Connection.MAX_FRAME_BYTES + " a frame may hold", false));
            return;
        }
        unanswered.put(r.seq, r);
        r.timeout = scheduler.schedule(() -> expire(r), timeoutMillis);
        send(r);
    }

    private void send(Request<?> r) {
        Connection c = conn;
        if (c == null || r.sentOn == c || unanswered.get(r.seq) != r) {
            return;
        }
        r.sentOn = c;
        if (++r.sends > 1) {
            log.debug("sending {} again (attempt {})", r.describe(), r.sends);
        }
        c.request(r.fields, reply -> onReply(r, reply));
    }

    private <T> void onReply(Request<T> r, JsonNode reply) {
        if (unanswered.get(r.seq) != r) {
            return;
        }
        JsonNode error = reply.get("error");
        if (error == null) {
            T value;
            try {
                value = r.parse.apply(reply.path("result"));
            } catch (RuntimeException e) {
                finish(r, null, e);
                return;
            }
            finish(r, value, null);
            return;
        }
        TetherException e = Json.error(error);
        if (e.temporary()) {
            long after = error.path("retryAfter").asLong(TEMPORARY_RETRY_MILLIS);
            r.sentOn = null;
            // Not before retryAfter, also on a connection made meanwhile (see connected).
            r.retryPending = true;
            scheduler.schedule(() -> {
                r.retryPending = false;
                send(r);
            }, Math.max(0, after));
        } else {
            finish(r, null, e);
        }
    }

    private void expire(Request<?> r) {
        if (unanswered.get(r.seq) == r) {
            finish(r, null, new TetherException(TetherException.TIMEOUT,
                    r.describe() + " got no answer within " + timeoutMillis + " ms", true));
        }
    }

    private <T> void finish(Request<T> r, T value, Throwable error) {
        unanswered.remove(r.seq);
        if (r.timeout != null) {
            r.timeout.cancel();
        }
        completions.execute(() -> {
            if (error == null) {
                r.future.complete(value);
            } else {
                r.future.completeExceptionally(error);
            }
        });
    }

    /** A connection is established: send everything unanswered, oldest first. */
    void connected(Connection c) {
        conn = c;
        for (Request<?> r : new ArrayList<>(unanswered.values())) {
            if (!r.retryPending) {
                send(r);
            }
        }
    }

    /** The connection is gone: what was in flight is sent again on the next one. */
    void disconnected() {
        conn = null;
    }

    /** The client is closing: every unanswered command fails with {@code error}. */
    void failAll(TetherException error) {
        List<Request<?>> all = new ArrayList<>(unanswered.values());
        for (Request<?> r : all) {
            finish(r, null, error);
        }
    }

    int size() {
        return unanswered.size();
    }
}
