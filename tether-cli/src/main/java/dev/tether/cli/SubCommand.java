package dev.tether.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.client.Publication;
import dev.tether.client.StreamPosition;
import dev.tether.client.SubscriptionListener;
import dev.tether.client.TetherClient;
import dev.tether.client.TetherException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tether sub URL CHANNEL}: prints each publication as one JSON line, in order, exactly once,
 * across reconnects; gaps and errors go to stderr as JSON lines.
 */
@Command(name = "sub", mixinStandardHelpOptions = true,
        description = "Subscribe to CHANNEL and print every publication as a JSON line until interrupted (or --count).")
final class SubCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "URL", description = "Server, e.g. ws://localhost:8080/ws or http://localhost:8080")
    private String url;

    @Parameters(index = "1", paramLabel = "CHANNEL", description = "Channel to subscribe to.")
    private String channel;

    @Option(names = "--since", paramLabel = "OFFSET:EPOCH",
            description = "First print every publication after this position, e.g. 41:e-7c1 (from an earlier line's offset and epoch).")
    private String since;

    @Option(names = "--count", paramLabel = "N", description = "Exit 0 after N publications.")
    private Long countOption;
    private long count = -1;

    @Option(names = "--token", paramLabel = "JWT", description = "Connect token.")
    private String token;

    @Override
    public Integer call() throws Exception {
        if (countOption != null) {
            if (countOption < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1, got " + countOption);
            }
            count = countOption;
        }
        StreamPosition from = since == null ? null : position(since);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong printed = new AtomicLong();
        int[] status = {0};
        // Closed by the server for good (a refused token, a session taken over, ...) rather than by
        // --count or Ctrl-C: say why and exit 1, not 0.
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        TetherClient.Builder b = TetherClient.builder().url(Urls.webSocket(spec.commandLine(), url)).name("tether-cli-sub")
                .listener(new dev.tether.client.ConnectionListener() {
                    @Override
                    public void onClosed(int code, String reason) {
                        if (!stopping.get()) {
                            err.println("tether sub: closed by the server: " + code + (reason.isEmpty() ? "" : " " + reason));
                            err.flush();
                            status[0] = 1;
                        }
                    }
                });
        if (token != null) {
            b.token(token);
        }
        TetherClient client = b.build();
        SubscriptionListener listener = new SubscriptionListener() {
            @Override
            public void onPublication(Publication p) {
                ObjectNode line = JSON.createObjectNode().put("channel", p.channel()).put("offset", p.offset()).put("epoch", p.epoch());
                line.set("data", p.data());
                if (p.from() != null) {
                    line.putObject("from").put("user", p.from().user()).put("client", p.from().client());
                }
                line.put("ts", p.ts());
                synchronized (out) {
                    out.println(line);
                    out.flush();
                }
                if (count > 0 && printed.incrementAndGet() >= count) {
                    done.countDown();
                }
            }

            @Override
            public void onGap(String ch, long gapFrom, long gapTo, String reason) {
                err.println(JSON.createObjectNode().put("gap", ch).put("from", gapFrom).put("to", gapTo).put("reason", reason));
                err.flush();
            }

            @Override
            public void onError(TetherException e) {
                err.println("tether sub: " + e.getMessage() + " (code " + e.code() + ")");
                err.flush();
                status[0] = 1;
                if (!e.temporary()) {
                    done.countDown();
                }
            }
        };
        client.connect();
        if (from == null) {
            client.subscribe(channel, listener);
        } else {
            client.subscribe(channel, listener, from);
        }
        // Ctrl-C: the JVM halts once the hooks return, so the hook waits (briefly) for main to close.
        CountDownLatch closedByMain = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            done.countDown();
            try {
                closedByMain.await(3, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "tether-sub-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        client.closed().thenRun(done::countDown);
        try {
            done.await();
        } finally {
            stopping.set(true);
            client.close();
            try {
                client.closed().get(2, java.util.concurrent.TimeUnit.SECONDS); // the server ends the session now
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // closing anyway
            } finally {
                closedByMain.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Already exiting (Ctrl-C): nothing to remove.
            }
        }
        return status[0];
    }

    private StreamPosition position(String s) {
        int colon = s.indexOf(':');
        try {
            if (colon <= 0 || colon == s.length() - 1) {
                throw new NumberFormatException();
            }
            return new StreamPosition(Long.parseLong(s.substring(0, colon)), s.substring(colon + 1));
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--since must be OFFSET:EPOCH, e.g. 41:e-7c1, got '" + s + "'");
        }
    }
}
