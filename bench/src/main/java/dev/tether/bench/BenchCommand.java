package dev.tether.bench;

import dev.tether.bench.scenario.ChannelsScenario;
import dev.tether.bench.scenario.FanoutScenario;
import dev.tether.bench.scenario.HoldScenario;
import dev.tether.bench.scenario.PublishScenario;
import dev.tether.bench.scenario.StormScenario;
import dev.tether.bench.scenario.SweepCommand;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code tether bench <scenario> [flags]}: the benchmark suite. Small defaults (5k connections,
 * 30 s); flags scale it up. Each scenario prints a short summary (lines starting with '#') and one
 * JSON line.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        synopsisSubcommandLabel = "SCENARIO",
        description = "Benchmark a Tether server against a raw Netty broadcast baseline, on this machine (127.0.0.1 only).",
        subcommands = {HoldScenario.class, FanoutScenario.class, ChannelsScenario.class, PublishScenario.class,
            StormScenario.class, SweepCommand.class, SweepCommand.ChartCommand.class, BenchCommand.Jmh.class,
            BenchCommand.Baseline.class})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return CommandLine.ExitCode.USAGE;
    }

    public static CommandLine commandLine() {
        return new CommandLine(new BenchCommand());
    }

    /** {@code jmh}: the microbenchmarks, with JMH's own flags (e.g. {@code jmh -f 1 -wi 3 -i 5 Fanout}). */
    @Command(name = "jmh", description = "JMH microbenchmarks of the hot paths; arguments go to JMH (try -h).")
    static final class Jmh implements Callable<Integer> {
        @CommandLine.Unmatched
        List<String> args = new java.util.ArrayList<>();

        @Override
        public Integer call() throws Exception {
            org.openjdk.jmh.Main.main(args.toArray(String[]::new));
            return 0;
        }
    }

    /** {@code baseline}: runs the raw Netty broadcast server alone, to point other tools at it. */
    @Command(name = "baseline", mixinStandardHelpOptions = true, description = "Run the raw Netty baseline server until stdin closes.")
    static final class Baseline implements Callable<Integer> {
        @CommandLine.Option(names = "--port", defaultValue = "8090")
        int port;

        @CommandLine.Option(names = "--ping-ms", defaultValue = "25000")
        long pingMillis;

        @Override
        public Integer call() throws Exception {
            try (var server = new dev.tether.bench.baseline.BaselineServer("127.0.0.1", port, pingMillis)) {
                System.out.println("baseline on ws://127.0.0.1:" + server.port() + "/ws (close stdin to stop)");
                while (System.in.read() >= 0) {
                    // until EOF
                }
            }
            return 0;
        }
    }
}
