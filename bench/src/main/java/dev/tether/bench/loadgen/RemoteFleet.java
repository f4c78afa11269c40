package dev.tether.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A slice of the subscribers held by a {@link Worker} process: how a run exceeds one process's
 * open-file limit. The worker gets its own JVM (and, with {@code cpus}, its own CPU set).
 */
public final class RemoteFleet implements Fleet {
    private static final ObjectMapper JSON = Worker.JSON;
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;

    public RemoteFleet(FleetSpec spec, String cpus, List<String> jvmOptions, Path log) {
        List<String> cmd = new ArrayList<>();
        if (cpus != null && !cpus.isBlank()) {
            cmd.addAll(List.of("taskset", "-c", cpus));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Worker.class.getName()));
        try {
            cmd.add(JSON.writeValueAsString(spec));
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a generator worker", e);
        }
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        JsonNode ready = read();
        if (!ready.path("ready").asBoolean()) {
            throw new IllegalStateException("worker did not start: " + ready);
        }
    }

    private JsonNode read() {
        try {
            String line = out.readLine();
            if (line == null) {
                throw new IllegalStateException("generator worker exited (exit code "
                        + (process.isAlive() ? "?" : process.exitValue()) + ")");
            }
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private synchronized JsonNode call(String cmd, ObjectNode args) {
        ObjectNode c = args == null ? JSON.createObjectNode() : args;
        c.put("cmd", cmd);
        in.println(c);
        JsonNode reply = read();
        if (reply.has("error")) {
            throw new IllegalStateException("worker: " + reply.path("error").asText());
        }
        return reply;
    }

    @Override
    public void open() {
        call("open", null);
    }

    @Override
    public Counts counts() {
        try {
            return JSON.treeToValue(call("counts", null).path("counts"), Counts.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Histogram takeLatency() {
        return Histograms.decode(call("latency", null).path("hist").asText());
    }

    @Override
    public Verify verify(long[] tops, long timeoutMillis) {
        ObjectNode a = JSON.createObjectNode();
        a.set("tops", JSON.valueToTree(tops));
        a.put("timeout", timeoutMillis);
        try {
            return JSON.treeToValue(call("verify", a).path("verify"), Verify.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void cut(long spreadMillis) {
        ObjectNode a = JSON.createObjectNode();
        a.put("spread", spreadMillis);
        call("cut", a);
    }

    @Override
    public Storm takeStorm() {
        JsonNode r = call("storm", null);
        return new Storm(Histograms.decode(r.path("reconnectAt").asText()), Histograms.decode(r.path("reconnectLate").asText()),
                Histograms.decode(r.path("resumed").asText()), Histograms.decode(r.path("recovered").asText()),
                r.path("clientsRecovered").asLong());
    }

    @Override
    public long cpuTicks() {
        return counts().cpuTicks();
    }

    @Override
    public void close() {
        try {
            call("quit", null);
        } catch (RuntimeException ignored) {
            // already gone
        }
        in.close();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
