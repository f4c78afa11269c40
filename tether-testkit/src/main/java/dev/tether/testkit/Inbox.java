package dev.tether.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Everything a {@link WsTestClient} has received, and the ways a test waits for it.
 *
 * <p>One writer (the channel's event loop) appends; any number of test threads read. Each
 * message is handed to exactly one {@code poll}; {@link #all()} keeps every message forever.
 */
final class Inbox {

    static final ObjectMapper JSON = new ObjectMapper();

    /** How many recent messages a timeout failure quotes. */
    private static final int MESSAGES_IN_FAILURE = 10;

    /** Messages not yet polled, in arrival order. */
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    /** Messages {@link #awaitReply} set aside while looking for its reply; polled before {@link #queue}. */
    private final ConcurrentLinkedDeque<String> setAside = new ConcurrentLinkedDeque<>();
    /** Every message ever received, in order. Guarded by itself. */
    private final List<String> all = new ArrayList<>();
    private final LinkedBlockingQueue<byte[]> binary = new LinkedBlockingQueue<>();
    private final AtomicInteger textFrames = new AtomicInteger();
    private final AtomicInteger pongs = new AtomicInteger();

    /** Event loop only: one text frame, possibly a batch of '\n'-separated messages. */
    void onTextFrame(String text) {
        textFrames.incrementAndGet();
        int start = 0;
        while (start <= text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String line = text.substring(start, end);
            if (!line.isBlank()) {
                synchronized (all) {
                    all.add(line);
                }
                queue.add(line);
            }
            start = end + 1;
        }
    }

    /** Event loop only. */
    void onBinaryFrame(byte[] payload) {
        binary.add(payload);
    }

    /** Event loop only. */
    void onPong() {
        pongs.incrementAndGet();
    }

    int framesReceived() {
        return textFrames.get();
    }

    int pongsReceived() {
        return pongs.get();
    }

    List<String> all() {
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    String poll(Duration timeout) {
        String early = setAside.pollFirst();
        if (early != null) {
            return early;
        }
        return pollQueue(queue, timeout.toNanos());
    }

    byte[] pollBinary(Duration timeout) {
        return pollQueue(binary, timeout.toNanos());
    }

    JsonNode pollJson(Duration timeout) {
        String message = poll(timeout);
        return message == null ? null : parse(message);
    }

    /** Polls until a JSON message matches; non-matching and non-JSON messages are dropped. */
    JsonNode await(Predicate<JsonNode> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String message = poll(Duration.ofNanos(Math.max(0, left)));
            JsonNode node = message == null ? null : tryParse(message);
            if (node != null && match.test(node)) {
                return node;
            }
            if (message == null || left <= 0) {
                throw timeout("no message matching the condition", timeout);
            }
        }
    }

    /**
     * Waits for the message whose {@code id} equals {@code id}. Messages taken from the queue
     * meanwhile are set aside, in order, for later polls; a reply another caller set aside is
     * found too.
     */
    JsonNode awaitReply(JsonNode id, Duration timeout) {
        for (Iterator<String> it = setAside.iterator(); it.hasNext(); ) {
            String message = it.next();
            JsonNode node = tryParse(message);
            if (isReply(node, id) && setAside.removeFirstOccurrence(message)) {
                return node;
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String message = pollQueue(queue, left);
            if (message == null) {
                throw timeout("no reply with id " + id, timeout);
            }
            JsonNode node = tryParse(message);
            if (isReply(node, id)) {
                return node;
            }
            setAside.addLast(message);
            if (left <= 0) {
                throw timeout("no reply with id " + id, timeout);
            }
        }
    }

    static JsonNode parse(String message) {
        try {
            return JSON.readTree(message);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("not JSON: " + message, e);
        }
    }

    private static JsonNode tryParse(String message) {
        try {
            return JSON.readTree(message);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static boolean isReply(JsonNode node, JsonNode id) {
        return node != null && node.isObject() && id.equals(node.get("id"));
    }

    /** Returns null on timeout; an interrupt also ends the wait, with the flag restored. */
    private static <T> T pollQueue(LinkedBlockingQueue<T> q, long timeoutNanos) {
        try {
            return q.poll(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private AssertionError timeout(String what, Duration timeout) {
        List<String> received = all();
        List<String> recent = received.subList(Math.max(0, received.size() - MESSAGES_IN_FAILURE), received.size());
        String interrupted = Thread.currentThread().isInterrupted() ? " (interrupted)" : "";
        return new AssertionError(what + " within " + timeout + interrupted
                + "; " + received.size() + " messages received, the last ones: " + recent);
    }
}
