package dev.tether.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.client.PublishResult;
import dev.tether.client.TetherClient;
import dev.tether.client.TetherException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tether pub URL CHANNEL DATA}: publishes once (reliably, with a key) and prints the result. */
@Command(name = "pub", mixinStandardHelpOptions = true,
        description = "Publish DATA to CHANNEL and print where it was stored as one JSON line.")
final class PubCommand implements Callable<Integer> {
    /** Strict: DATA is one JSON value and nothing after it. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "URL", description = "Server, e.g. ws://localhost:8080/ws or http://localhost:8080")
    private String url;

    @Parameters(index = "1", paramLabel = "CHANNEL", description = "Channel to publish to.")
    private String channel;

    @Parameters(index = "2", paramLabel = "DATA", description = "The data as JSON, e.g. '{\"text\":\"hi\"}' (see --text).")
    private String data;

    @Option(names = "--text", description = "Send DATA as a JSON string instead of parsing it as JSON.")
    private boolean text;

    @Option(names = "--key", paramLabel = "KEY", description = "Idempotency key (default: a unique one); a resend with the same key is stored once.")
    private String key;

    @Option(names = "--token", paramLabel = "JWT", description = "Connect token.")
    private String token;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
    private long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        if (timeoutSeconds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be at least 1 second, got " + timeoutSeconds);
        }
        JsonNode payload;
        if (text) {
            payload = TextNode.valueOf(data);
        } else {
            try {
                payload = JSON.readTree(data);
                if (payload == null || payload.isMissingNode()) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "DATA is empty; give a JSON value, or use --text to send a string");
                }
            } catch (JsonProcessingException e) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "DATA is not valid JSON (" + e.getOriginalMessage() + "); use --text to send it as a string");
            }
        }
        TetherClient.Builder b = TetherClient.builder().url(Urls.webSocket(spec.commandLine(), url)).name("tether-cli-pub")
                .publishTimeout(Duration.ofSeconds(timeoutSeconds));
        if (token != null) {
            b.token(token);
        }
        TetherClient client = b.build();
        try {
            client.connect();
            var future = key == null ? client.publish(channel, payload) : client.publish(channel, payload, key);
            PublishResult r = future.get(timeoutSeconds, TimeUnit.SECONDS);
            spec.commandLine().getOut().println(JSON.createObjectNode().put("channel", channel).put("offset", r.offset())
                    .put("epoch", r.epoch()).put("duplicate", r.duplicate()).put("key", r.key()));
            spec.commandLine().getOut().flush();
            return 0;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String why = cause instanceof TetherException te ? te.getMessage() + " (code " + te.code() + ")" : String.valueOf(cause);
            spec.commandLine().getErr().println("tether pub: not published: " + why);
            return 1;
        } catch (TimeoutException e) {
            spec.commandLine().getErr().println("tether pub: no reply within " + timeoutSeconds + " s");
            return 1;
        } finally {
            client.close();
            try {
                client.closed().get(2, TimeUnit.SECONDS); // the server ends the session now, not after its TTL
            } catch (ExecutionException | TimeoutException e) {
                // exiting anyway
            }
        }
    }
}
