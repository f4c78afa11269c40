package dev.tether.server.cli;

import dev.tether.server.config.ConfigException;
import dev.tether.server.config.ConfigKey;
import dev.tether.server.config.ConfigLoader;
import dev.tether.server.config.TetherConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code tether serve}: runs the server until SIGTERM or SIGINT, then drains and returns 0. Its flags
 * are generated from {@link ConfigKey} and taken as plain strings, so that flags, environment and
 * YAML are parsed by the same code and report errors the same way.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = TetherVersion.class,
        sortOptions = false, usageHelpAutoWidth = true, abbreviateSynopsis = true,
        description = "Run the Tether server until SIGTERM or SIGINT, then drain connections and exit 0.",
        footer = {
            "",
            "Precedence: flag > TETHER_* environment variable > config file > default.",
            "Durations: 250ms, 25s, 5m, 1h, 2d, or combined as in 1m30s.",
            "Sizes: a number of bytes, or 64KiB, 1MiB, 1GiB.  Booleans: true or false.",
            "Exit status: 0 after a clean shutdown, 1 on a server failure, 2 on bad configuration.",
        })
final class ServeCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "<file>", order = 0,
            description = {"YAML file with any of the keys below, by their kebab-case names.",
                "Default: unset.  Env: " + ConfigLoader.CONFIG_ENV})
    private Path configFile;

    private final Map<String, String> env;
    private final ServerHandle.Launcher launcher;
    private final Consumer<Runnable> onShutdownSignal;

    private ServeCommand(Map<String, String> env, ServerHandle.Launcher launcher,
            Consumer<Runnable> onShutdownSignal) {
        this.env = env;
        this.launcher = launcher;
        this.onShutdownSignal = onShutdownSignal;
    }

    /**
     * @param onShutdownSignal installs a callback for the operator's stop request; production uses
     *     {@link ShutdownSignals#install}, tests call the callback themselves
     */
    static CommandLine commandLine(Map<String, String> env, ServerHandle.Launcher launcher,
            Consumer<Runnable> onShutdownSignal) {
        CommandLine commandLine = new CommandLine(new ServeCommand(env, launcher, onShutdownSignal));
        int order = 1;
        for (ConfigKey key : ConfigKey.values()) {
            commandLine.getCommandSpec().addOption(option(key, order++));
        }
        return commandLine;
    }

    private static OptionSpec option(ConfigKey key, int order) {
        OptionSpec.Builder option = OptionSpec.builder(key.flag())
                .paramLabel(key.type().label())
                .order(order)
                // picocli formats descriptions with String.format.
                .description(key.description().replace("%", "%%"),
                        "Default: " + key.defaultShown() + ".  Env: " + key.envName());
        if (key == ConfigKey.NAMESPACES) {
            return option.type(List.class).auxiliaryTypes(String.class).build(); // once per namespace
        }
        return option.type(String.class).build();
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        TetherConfig config;
        try {
            config = ConfigLoader.load(flags(spec.commandLine().getParseResult()), configFile, env);
        } catch (ConfigException e) {
            err.println("tether: " + e.getMessage());
            return ExitCode.USAGE;
        }
        ServerHandle server;
        try {
            server = launcher.start(config);
        } catch (Exception e) {
            err.println("tether: cannot start: " + e);
            return ExitCode.SOFTWARE;
        }
        // Stopped when the drain asked for by a signal completes, or when the server stops on its own.
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        onShutdownSignal.accept(() -> server.shutdown().whenComplete((v, e) -> settle(stopped, e)));
        server.terminated().whenComplete((v, e) -> settle(stopped, e));
        try {
            stopped.join();
            return ExitCode.OK;
        } catch (CompletionException e) {
            err.println("tether: stopped with an error: " + e.getCause());
            return ExitCode.SOFTWARE;
        }
    }

    private static Map<ConfigKey, List<String>> flags(ParseResult parsed) {
        Map<ConfigKey, List<String>> flags = new LinkedHashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            OptionSpec matched = parsed.matchedOption(key.flag());
            if (matched != null) {
                flags.put(key, List.copyOf(matched.stringValues()));
            }
        }
        return flags;
    }

    private static void settle(CompletableFuture<Void> stopped, Throwable failure) {
        if (failure == null) {
            stopped.complete(null);
        } else {
            stopped.completeExceptionally(failure);
        }
    }
}
