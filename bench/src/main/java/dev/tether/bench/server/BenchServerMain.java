package dev.tether.bench.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The server under test as its own process, with a measuring hook: prints {@code READY <url>}, then
 * answers {@code stats} / {@code stats-gc} on stdin with one JSON line of {@link ServerStats}. Exits
 * when stdin closes, so it never outlives the benchmark that started it. Logs go to stderr.
 */
public final class BenchServerMain {
    private BenchServerMain() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream control = System.out;
        System.setOut(System.err);
        ObjectMapper json = new ObjectMapper();
        RunningServer server = RunningServer.start(ServerOptions.fromArgs(args));
        control.println("READY " + server.wsUrl());
        control.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null && !line.equals("quit")) {
                if (line.startsWith("stats")) {
                    control.println(json.writeValueAsString(server.stats(line.equals("stats-gc"))));
                    control.flush();
                }
            }
        }
        server.close();
        System.exit(0);
    }
}
