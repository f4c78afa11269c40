package dev.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.server.TetherServer;
import dev.tether.server.config.TetherConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code tether pub} and {@code tether sub} against a real server. */
class SubPubIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private TetherServer server;

    @BeforeEach
    void start() throws Exception {
        server = TetherServer.start(TetherConfig.builder().host("127.0.0.1").port(0).shutdownDrain(Duration.ZERO).build());
    }

    @AfterEach
    void stop() {
        server.shutdown().join();
    }

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(Map.of());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    void pubPrintsWhereThePublicationWasStoredAndAResendWithTheKeyIsADuplicate() throws Exception {
        Run first = run("pub", server.url(), "cli:a", "{\"text\":\"hi\"}", "--key", "k-1");
        assertThat(first.status()).as(first.err()).isZero();
        JsonNode r = JSON.readTree(first.out());
        assertThat(r.get("offset").asLong()).isEqualTo(1);
        assertThat(r.get("duplicate").asBoolean()).isFalse();
        JsonNode again = JSON.readTree(run("pub", server.wsUrl(), "cli:a", "{\"text\":\"hi\"}", "--key", "k-1").out());
        assertThat(again.get("duplicate").asBoolean()).isTrue();
        assertThat(again.get("offset").asLong()).isEqualTo(1);
    }

    @Test
    void subPrintsEachPublicationAsAJsonLineFromSince() throws Exception {
        String epoch = JSON.readTree(run("pub", server.url(), "cli:b", "1").out()).get("epoch").asText();
        run("pub", server.url(), "cli:b", "2");
        CompletableFuture<Run> sub = CompletableFuture.supplyAsync(
                () -> run("sub", server.url(), "cli:b", "--since", "0:" + epoch, "--count", "3"));
        await().atMost(Duration.ofSeconds(10)).until(() -> server.hub().subscriptionCount() == 1);
        run("pub", server.url(), "cli:b", "\"three\"");
        Run r = sub.get(20, TimeUnit.SECONDS);
        assertThat(r.status()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        assertThat(lines).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonNode line = JSON.readTree(lines[i]);
            assertThat(line.get("offset").asLong()).isEqualTo(i + 1);
            assertThat(line.get("epoch").asText()).isEqualTo(epoch);
        }
        assertThat(JSON.readTree(lines[2]).get("data").asText()).isEqualTo("three");
    }

    @Test
    void badInputGetsOneClearLineAndStatus2() {
        Run notJson = run("pub", server.url(), "cli:c", "hello world");
        assertThat(notJson.status()).isEqualTo(2);
        assertThat(notJson.err()).contains("DATA is not valid JSON").contains("--text");
        Run badSince = run("sub", server.url(), "cli:c", "--since", "abc");
        assertThat(badSince.status()).isEqualTo(2);
        assertThat(badSince.err()).contains("--since must be OFFSET:EPOCH");
        Run badUrl = run("pub", "ftp://x", "cli:c", "1");
        assertThat(badUrl.status()).isEqualTo(2);
        assertThat(badUrl.err()).contains("must start with ws://");
        Run text = run("pub", server.url(), "cli:c", "hello world", "--text");
        assertThat(text.status()).as(text.err()).isZero();
        for (String[] args : new String[][] {
            {"pub", server.url(), "cli:c", "{\"a\":1} x"},
            {"pub", server.url(), "cli:c", "1 2"},
            {"pub", server.url(), "cli:c", "  "},
            {"pub", server.url(), "cli:c", "1", "--timeout", "0"},
            {"sub", server.url(), "cli:c", "--count", "0"},
            {"sub", server.url(), "cli:c", "--count", "-1"},
        }) {
            Run bad = run(args);
            assertThat(bad.status()).as(String.join(" ", args) + ": " + bad.err()).isEqualTo(2);
            assertThat(bad.err().strip().lines().findFirst()).as(bad.err()).isPresent();
        }
    }

    /** A subscription the server ends for good (here a token it refuses) is exit status 1 with the reason, not 0. */
    @Test
    void subExitsOneWhenTheServerClosesItForGood() throws Exception {
        TetherServer secured = TetherServer.start(TetherConfig.builder().host("127.0.0.1").port(0)
                .shutdownDrain(Duration.ZERO).tokenSecret("cli-it-secret-of-enough-length-0123456789").allowAnonymous(false).build());
        try {
            Run r = CompletableFuture.supplyAsync(() -> run("sub", secured.url(), "cli:d", "--token", "not-a-jwt"))
                    .get(20, TimeUnit.SECONDS);
            assertThat(r.status()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).contains("closed by the server: 4501");
        } finally {
            secured.shutdown().join();
        }
    }
}
