package dev.tether.cli;

import dev.tether.server.cli.ServerHandle;
import dev.tether.server.cli.ShutdownSignals;
import dev.tether.server.cli.TetherCli;
import java.util.Map;
import picocli.CommandLine;

/** The jar's entry point: {@code tether serve | sub | pub | bench}. Only {@link #main} exits the JVM. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(commandLine(System.getenv()).execute(args));
    }

    /** The whole command tree, for tests to run with {@code execute}. */
    public static CommandLine commandLine(Map<String, String> env) {
        return TetherCli.commandLine(env, ServerHandle::startTether, ShutdownSignals::install,
                new SubCommand(), new PubCommand(), dev.tether.bench.BenchCommand.commandLine());
    }
}
