package dev.tether.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.server.TetherServer;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The browser client and the pages, run by Node: tether.js unit tests (node --test), tether.js in
 * Node against this server, and the chat page in a real headless Chromium (Debian's, driven by
 * playwright-core). Installs the npm dev dependencies on first run ({@code npm ci}).
 */
class BrowserClientIT {
    private static final Path JS = Path.of("src/test/js").toAbsolutePath();
    private static final Duration NODE_TIMEOUT = Duration.ofMinutes(3);
    private static Harness h;
    private static TetherServer server;

    @BeforeAll
    static void setUp() throws Exception {
        if (!Files.isDirectory(JS.resolve("node_modules/playwright-core"))) {
            run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of());
        }
        h = new Harness();
        server = h.server(b -> b.shutdownDrain(Duration.ofMillis(200)));
    }

    @AfterAll
    static void tearDown() {
        h.close();
    }

    @Test
    void tetherJsUnitTestsPass() throws Exception {
        String out = run(List.of("node", "--test", "tether.test.mjs", "static-files.test.mjs"), Map.of());
        assertThat(out).contains("# fail 0");
    }

    @Test
    void tetherJsInNodeLosesAndDoublesNothingAcrossCuts() throws Exception {
        String out = run(List.of("node", "node-client.e2e.mjs"), Map.of("TETHER_URL", server.url()));
        assertThat(out).containsIgnoringCase("lost 0");
    }

    @Test
    void chatPagesInChromiumExchangeMessagesAndResumeAfterGoingOffline() throws Exception {
        assertThat(new File("/usr/bin/chromium")).as("Debian chromium (apt-get install -y chromium; .ci/run does)").exists();
        String out = run(List.of("node", "chat.e2e.mjs"), Map.of("TETHER_URL", server.url(),
                "TETHER_SCREENSHOT_DIR", Path.of("target/e2e").toAbsolutePath().toString()));
        assertThat(out).contains("lost 0, doubled 0").contains("0 failed");
    }

    /** Runs a command in the JS folder; fails the test with its output when it exits non-zero. */
    private static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(JS.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path log = Files.createTempFile("tether-node", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        boolean done = p.waitFor(NODE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        System.out.println("$ " + String.join(" ", command) + "\n" + out);
        assertThat(done).as("%s finished within %s", command, NODE_TIMEOUT).isTrue();
        assertThat(p.exitValue()).as("%s exit status; output:%n%s", command, out).isZero();
        return out;
    }
}
