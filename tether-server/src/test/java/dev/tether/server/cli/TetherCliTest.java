package dev.tether.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.server.config.ConfigKey;
import dev.tether.server.config.TetherConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TetherCliTest {
    private static final String NL = System.lineSeparator();

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final List<TetherConfig> started = new ArrayList<>();
    private final FakeServer server = new FakeServer();
    /** The stop requests serve installed, in place of real signal handlers. */
    private final List<Runnable> signalHandlers = new ArrayList<>();

    private int run(Map<String, String> env, String... args) {
        return run(env, signalHandlers::add, args);
    }

    private int run(Map<String, String> env, Consumer<Runnable> signals, String... args) {
        CommandLine cli = TetherCli.commandLine(env, config -> {
            started.add(config);
            return server;
        }, signals);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void serveHelpListsEveryKeyWithItsFlagEnvironmentVariableAndDefault() {
        int status = run(Map.of(), "serve", "--help");

        assertThat(status).isZero();
        String help = out.toString().replaceAll("\\s+", " ");
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(help).contains(key.flag() + "=" + key.type().label(), "Env: " + key.envName(),
                    "Default: " + key.defaultShown() + ".");
        }
        assertThat(help).contains("--config=<file>", "Env: TETHER_CONFIG", "Precedence: flag >");
    }

    @Test
    void helpListsTheServeCommand() {
        assertThat(run(Map.of(), "--help")).isZero();
        assertThat(out.toString()).contains("Usage: tether", "serve");
    }

    @Test
    void versionPrintsTheTetherVersion() {
        assertThat(run(Map.of(), "--version")).isZero();
        assertThat(out.toString()).startsWith("tether ");
    }

    @Test
    void noCommandPrintsUsageAndExitsTwo() {
        assertThat(run(Map.of())).isEqualTo(2);
        assertThat(err.toString()).contains("Usage: tether", "serve");
    }

    @Test
    void anInvalidFlagValueExitsTwoWithTheOneLineMessageAndStartsNothing() {
        int status = run(Map.of(), "serve", "--ping-interval", "25");

        assertThat(status).isEqualTo(2);
        assertThat(err.toString())
                .isEqualTo("tether: ping-interval (flag --ping-interval): \"25\" needs a unit, e.g. 25s or 200ms" + NL);
        assertThat(started).isEmpty();
    }

    @Test
    void anInvalidEnvironmentValueExitsTwo() {
        assertThat(run(Map.of("TETHER_PORT", "eighty"), "serve")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("tether: port (env TETHER_PORT): \"eighty\" is not a whole number" + NL);
    }

    @Test
    void anUnknownFlagExitsTwoWithAShortComplaint() {
        assertThat(run(Map.of(), "serve", "--prot", "1")).isEqualTo(2);
        assertThat(err.toString()).startsWith("tether: Unknown option").contains("Try 'tether serve --help'.")
                .doesNotContain("Usage:");
    }

    @Test
    void serveStartsTheServerWithTheLoadedConfigAndExitsZeroWhenTheSignalledDrainCompletes() {
        Consumer<Runnable> signalRightAway = handler -> {
            signalHandlers.add(handler);
            handler.run();
        };

        int status = run(Map.of("TETHER_PING_INTERVAL", "200ms"), signalRightAway, "serve", "--port=0",
                "--namespace", "chat=history-size:10", "--namespace=news=history-age:1m");

        assertThat(status).isZero();
        assertThat(started).hasSize(1);
        TetherConfig config = started.get(0);
        assertThat(config.port()).isZero();
        assertThat(config.pingInterval()).isEqualTo(Duration.ofMillis(200));
        assertThat(config.namespaces()).containsOnlyKeys("chat", "news");
        assertThat(server.shutdownCalls).isEqualTo(1);
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void serveExitsZeroWhenTheServerStopsOnItsOwn() {
        server.terminated.complete(null);

        assertThat(run(Map.of(), "serve")).isZero();
        assertThat(signalHandlers).hasSize(1);
        assertThat(server.shutdownCalls).isZero();
    }

    @Test
    void serveExitsOneWhenTheServerStopsWithAnError() {
        server.terminated.completeExceptionally(new IllegalStateException("event loop died"));

        assertThat(run(Map.of(), "serve")).isEqualTo(1);
        assertThat(err.toString())
                .isEqualTo("tether: stopped with an error: java.lang.IllegalStateException: event loop died" + NL);
    }

    @Test
    void serveExitsOneWhenTheServerCannotStart() {
        CommandLine cli = TetherCli.commandLine(Map.of(), config -> {
            throw new BindException("Address already in use");
        }, signalHandlers::add);
        cli.setErr(new PrintWriter(err, true));

        assertThat(cli.execute("serve")).isEqualTo(1);
        assertThat(err.toString())
                .isEqualTo("tether: cannot start: java.net.BindException: Address already in use" + NL);
        assertThat(signalHandlers).isEmpty();
    }

    /** Drains at once when asked, as a server with no connections would. */
    private static final class FakeServer implements ServerHandle {
        final CompletableFuture<Void> terminated = new CompletableFuture<>();
        int shutdownCalls;

        @Override
        public CompletableFuture<Void> shutdown() {
            shutdownCalls++;
            terminated.complete(null);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> terminated() {
            return terminated;
        }
    }
}
