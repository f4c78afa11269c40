package dev.tether.bench;

import dev.tether.server.cli.ServerHandle;
import dev.tether.server.cli.ShutdownSignals;
import dev.tether.server.cli.TetherCli;
import picocli.CommandLine;

/**
 * The {@code tether} command with {@code bench} added: {@code java -jar bench/target/tether-bench.jar
 * bench fanout ...} is {@code tether bench fanout ...}. (The server's own jar cannot carry the
 * bench: the bench depends on the server.)
 */
public final class TetherBenchCli {
    private TetherBenchCli() {
    }

    public static void main(String[] args) {
        CommandLine cli = TetherCli.commandLine(System.getenv(), ServerHandle::startTether, ShutdownSignals::install);
        cli.addSubcommand(BenchCommand.commandLine());
        System.exit(cli.execute(args));
    }
}
