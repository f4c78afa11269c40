package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsHandshakeException;
import dev.tether.testkit.WsTestClient;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Graceful shutdown (PROTOCOL.md section 14), in process and as a real process receiving SIGTERM. */
@ExtendWith(NoLeaks.class)
class ShutdownIT {
    private static final Duration DRAIN = Duration.ofSeconds(1);
    private static final int CLIENTS = 20;
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^\\s:]+:(\\d+)");

    private Harness h;

    @BeforeEach
    void start() {
        h = new Harness();
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void shutdownTurnsNotReadyAnswersPendingCommandsAndDisconnectsEveryClientWith4000SpreadOverTheDrain()
            throws Exception {
        TetherServer server = h.server(b -> b.shutdownDrain(DRAIN));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create(server.url() + "/readyz")).GET().build();
        // Also opens the keep-alive connection that lets us still ask once the listener is closed.
        assertThat(http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

        List<WsTestClient> clients = new ArrayList<>();
        ConcurrentLinkedQueue<Long> closedAt = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Integer>> codes = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            WsTestClient c = h.connected(server);
            clients.add(c);
            codes.add(c.closeCode().whenComplete((code, e) -> closedAt.add(System.nanoTime())));
        }
        await().atMost(Harness.WAIT).until(() -> server.hub().connectionCount() == CLIENTS);

        WsTestClient publisher = clients.get(0);
        long publishId = h.id();
        publisher.send("{\"id\":" + publishId + ",\"op\":\"publish\",\"channel\":\"last\",\"data\":\"words\"}");
        // Shut down only once the server has the publication: a command still in flight on the
        // wire when the drain starts may be read after the goodbye, and is then not answered.
        await().atMost(Harness.WAIT).until(() -> server.hub().channelSubscribers().containsKey("last"));
        long start = System.nanoTime();
        CompletableFuture<Long> doneAt = server.shutdown().thenApply(v -> System.nanoTime());

        assertThat(server.ready()).as("ready() right after shutdown()").isFalse();
        await("GET /readyz is 503").atMost(Harness.WAIT).ignoreExceptions()
                .until(() -> http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
        assertThatThrownBy(() -> h.raw(server)).as("a new WebSocket while draining")
                .isInstanceOf(WsHandshakeException.class);

        JsonNode reply = publisher.await(m -> m.path("id").asLong() == publishId, Harness.WAIT);
        assertThat(reply.has("result")).as("reply %s", reply).isTrue();
        assertThat(reply.get("result").get("offset").asLong()).isEqualTo(1);

        for (int i = 0; i < CLIENTS; i++) {
            WsTestClient c = clients.get(i);
            JsonNode bye = c.await(m -> "disconnect".equals(m.path("op").asText()), Harness.WAIT);
            assertThat(bye.get("code").asInt()).as("client %d: %s", i, bye).isEqualTo(4000);
            assertThat(bye.get("reconnect").asBoolean()).as("client %d: %s", i, bye).isTrue();
            assertThat(bye.has("retryAfter")).as("client %d: %s", i, bye).isTrue();
            assertThat(bye.get("retryAfter").asLong()).as("client %d: %s", i, bye).isBetween(0L, DRAIN.toMillis());
            assertThat(codes.get(i).get(5, TimeUnit.SECONDS)).as("close code of client %d", i).isEqualTo(4000);
        }
        int replyAt = indexOf(publisher.all(), "\"id\":" + publishId + ",");
        int byeAt = indexOf(publisher.all(), "\"op\":\"disconnect\"");
        assertThat(replyAt).as("publish reply before the disconnect").isLessThan(byeAt);

        long finished = doneAt.get(DRAIN.plusSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
        long first = closedAt.stream().mapToLong(Long::longValue).min().orElseThrow();
        long last = closedAt.stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(closedAt).hasSize(CLIENTS);
        // Every client answered its close at once: nothing is left to wait for.
        assertThat(TimeUnit.NANOSECONDS.toMillis(finished - last)).as("shutdown() completing after the last close")
                .isLessThan(2000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(last - first)).as("spread of the closes")
                .isGreaterThanOrEqualTo((long) (DRAIN.toMillis() * 0.3));
        assertThat(TimeUnit.NANOSECONDS.toMillis(last - start)).as("last close within the drain (plus slack)")
                .isLessThan(DRAIN.toMillis() + 2000);
        assertThat(server.terminated()).isDone();
    }

    @Test
    void serveProcessDrainsClientsWith4000AndExitsZeroOnSigterm() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        ProcessBuilder pb = new ProcessBuilder(java,
                "-cp", System.getProperty("java.class.path"),
                // The test classpath carries logback-test.xml (WARN); the real config logs where it listens.
                "-Dlogback.configurationFile=logback.xml",
                "dev.tether.server.cli.TetherCli", "serve",
                "--host", "127.0.0.1", "--port", "0", "--shutdown-drain", "500ms")
                .redirectErrorStream(true);
        Process process = pb.start();
        List<String> output = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    output.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (java.io.IOException e) {
                // the process went away; what was read is in output
            } finally {
                port.completeExceptionally(new AssertionError("serve printed no 'listening on' line: " + output));
            }
        }, "serve-output");
        reader.setDaemon(true);
        reader.start();
        try {
            int p = port.get(30, TimeUnit.SECONDS);
            WsTestClient c = h.raw(URI.create("ws://127.0.0.1:" + p + "/ws"));
            JsonNode r = h.connect(c, null);
            assertThat(r.get("resumed").asBoolean()).isFalse();

            process.destroy(); // SIGTERM
            JsonNode bye = c.await(m -> "disconnect".equals(m.path("op").asText()), Harness.WAIT);
            assertThat(bye.get("code").asInt()).isEqualTo(4000);
            assertThat(bye.get("reconnect").asBoolean()).isTrue();
            assertThat(c.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(4000);
            assertThat(process.waitFor(15, TimeUnit.SECONDS)).as("exited within 15 s; output %s", output).isTrue();
            assertThat(process.exitValue()).as("exit status; output %s", output).isZero();
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private static int indexOf(List<String> messages, String fragment) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).contains(fragment)) {
                return i;
            }
        }
        throw new AssertionError("no message containing " + fragment + " in " + messages);
    }
}
