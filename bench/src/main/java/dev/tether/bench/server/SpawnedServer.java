package dev.tether.bench.server;

import com.fasterxml.jackson.databind.ObjectMapper;
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

/** The server as a child process ({@link BenchServerMain}), optionally pinned with {@code taskset}. */
public final class SpawnedServer implements ServerTarget {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String kind;
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final String wsUrl;

    /**
     * @param cpus CPU list for {@code taskset -c}, or null/blank for no pinning
     * @param jvmOptions options of the server's JVM (heap, GC)
     * @param log file that receives the server's log (stderr)
     */
    public SpawnedServer(ServerOptions options, String cpus, List<String> jvmOptions, Path log) {
        this.kind = options.kind();
        List<String> cmd = new ArrayList<>();
        if (cpus != null && !cpus.isBlank()) {
            cmd.addAll(List.of("taskset", "-c", cpus));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchServerMain.class.getName()));
        cmd.addAll(options.toArgs());
        try {
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            String ready = out.readLine();
            if (ready == null || !ready.startsWith("READY ")) {
                process.destroyForcibly();
                throw new IllegalStateException("server did not start (see " + log + "): " + ready);
            }
            wsUrl = ready.substring("READY ".length()).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the server process", e);
        }
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public String wsUrl() {
        return wsUrl;
    }

    @Override
    public boolean isolated() {
        return true;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public synchronized ServerStats stats(boolean gc) {
        in.println(gc ? "stats-gc" : "stats");
        try {
            String line = out.readLine();
            if (line == null) {
                throw new IllegalStateException("server process exited (code " + process.waitFor() + ")");
            }
            return JSON.readValue(line, ServerStats.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        in.println("quit");
        in.close();
        try {
            if (!process.waitFor(40, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
