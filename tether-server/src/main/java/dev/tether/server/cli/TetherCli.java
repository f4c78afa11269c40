package dev.tether.server.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code tether} command, the jar's entry point. Each action is a subcommand; {@link #main} is the
 * only place that exits the JVM, so tests run every command through {@link #commandLine} and
 * {@code execute} and look at the returned status.
 */
@Command(name = "tether", mixinStandardHelpOptions = true, versionProvider = TetherVersion.class,
        usageHelpAutoWidth = true, synopsisSubcommandLabel = "COMMAND",
        description = "Tether: a WebSocket messaging server that does not lose messages.")
public final class TetherCli implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    private TetherCli() {
    }

    public static void main(String[] args) {
        System.exit(commandLine(System.getenv(), ServerHandle::startTether, ShutdownSignals::install).execute(args));
    }

    /**
     * The whole command tree. New subcommands ({@code sub}, {@code pub}, {@code bench}) are added here.
     *
     * @param env the process environment, injected so tests do not depend on the real one
     */
    public static CommandLine commandLine(Map<String, String> env, ServerHandle.Launcher launcher,
            Consumer<Runnable> onShutdownSignal, Object... moreSubcommands) {
        CommandLine cli = new CommandLine(new TetherCli());
        cli.addSubcommand(ServeCommand.commandLine(env, launcher, onShutdownSignal));
        for (Object sub : moreSubcommands) {
            cli.addSubcommand(sub);
        }
        // Set last: picocli copies it only to subcommands already added.
        cli.setParameterExceptionHandler(TetherCli::usageError);
        return cli;
    }

    /** {@code tether} alone: show what it can do. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE;
    }

    /** A short complaint instead of picocli's default of the full usage, which buries the message. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("tether: " + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + command.getCommandSpec().qualifiedName() + " --help'.");
        err.flush();
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }
}
