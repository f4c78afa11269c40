package dev.tether.bench.scenario;

import dev.tether.bench.report.LineChart;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code sweep}: runs {@code fanout} (both targets) for several subscriber counts, several times,
 * appends every result to a JSON-lines file and draws the charts from the medians.
 * {@code chart} redraws them from such a file.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "fanout over several subscriber counts and runs; writes JSON lines and PNG charts of the medians.")
public final class SweepCommand implements Callable<Integer> {
    @Option(names = "--subscribers", split = ",", defaultValue = "100,1000,5000", description = "Subscriber counts (default ${DEFAULT-VALUE}).")
    List<Integer> subscribers;

    @Option(names = "--runs", defaultValue = "3", description = "Runs per point (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--out", defaultValue = "bench-results", description = "Directory for sweep.jsonl and the PNGs (default ${DEFAULT-VALUE}).")
    Path out;

    @Unmatched
    List<String> fanoutArgs = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        Files.createDirectories(out);
        Path jsonl = out.resolve("sweep.jsonl");
        for (int run = 1; run <= runs; run++) {
            for (int n : subscribers) {
                List<String> args = new ArrayList<>(fanoutArgs);
                args.addAll(List.of("--subscribers", Integer.toString(n), "--json-out", jsonl.toString(),
                        "--label", "sweep-run-" + run));
                int code = new CommandLine(new FanoutScenario()).execute(args.toArray(String[]::new));
                if (code != 0) {
                    return code;
                }
            }
        }
        Charts.draw(jsonl, out);
        return 0;
    }

    /** {@code chart}: draws the charts from a JSON-lines file of fanout results. */
    @Command(name = "chart", mixinStandardHelpOptions = true, description = "Draw PNG charts (medians) from fanout JSON lines.")
    public static final class ChartCommand implements Callable<Integer> {
        @Option(names = "--in", required = true, description = "JSON-lines file written by sweep or --json-out.")
        Path in;

        @Option(names = "--out", defaultValue = "bench-results", description = "Directory for the PNGs (default ${DEFAULT-VALUE}).")
        Path out;

        @Override
        public Integer call() throws IOException {
            Files.createDirectories(out);
            Charts.draw(in, out);
            return 0;
        }
    }

    /** Medians per (server, subscribers) of the fanout lines, drawn as deliveries/s and p99. */
    static final class Charts {
        private Charts() {
        }

        static void draw(Path jsonl, Path dir) {
            Map<String, TreeMap<Integer, List<double[]>>> points = new TreeMap<>();
            java.util.Set<Object> rates = new java.util.TreeSet<>(java.util.Comparator.comparing(String::valueOf));
            try {
                for (String line : Files.readAllLines(jsonl)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    Map<String, Object> r = FanoutScenario.cast(Report.JSON.readValue(line, Map.class));
                    String scenario = String.valueOf(r.get("scenario"));
                    if (!scenario.startsWith("fanout")) {
                        continue;
                    }
                    int n = ((Number) r.get("subscribers")).intValue();
                    if (r.get("rate") != null) {
                        rates.add(r.get("rate"));
                    }
                    for (String kind : List.of("tether", "baseline")) {
                        if (r.get(kind) instanceof Map<?, ?> m) {
                            double[] v = values(scenario, FanoutScenario.cast(m));
                            String series = kind + (scenario.equals("fanout-max") ? " (max)" : "");
                            points.computeIfAbsent(series, k -> new TreeMap<>()).computeIfAbsent(n, k -> new ArrayList<>()).add(v);
                        }
                    }
                }
                String at = rates.isEmpty() ? "" : " at " + rates.stream()
                        .map(x -> String.valueOf(x).replaceAll("\\.0$", "")).collect(java.util.stream.Collectors.joining("/"))
                        + " pubs/s";
                LineChart rate = new LineChart("Fan-out" + at + ": deliveries per second (median of runs)", "subscribers",
                        "deliveries/s");
                LineChart p99 = new LineChart("Fan-out" + at + ": end-to-end p99 latency (median of runs)", "subscribers",
                        "p99 ms").logY();
                points.forEach((series, byN) -> byN.forEach((n, vs) -> {
                    rate.point(series, n, median(vs, 0));
                    p99.point(series, n, median(vs, 1));
                }));
                rate.write(dir.resolve("fanout-deliveries.png"));
                p99.write(dir.resolve("fanout-p99.png"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** {deliveries/s, p99 ms}: of the run, or of the last good step in max mode. */
        private static double[] values(String scenario, Map<String, Object> m) {
            if (scenario.equals("fanout-max")) {
                double best = FanoutScenario.num(m.get("lastGoodDeliveriesPerSec"));
                double p = 0;
                if (m.get("steps") instanceof List<?> steps) {
                    for (Object o : steps) {
                        Map<String, Object> s = FanoutScenario.cast(o);
                        if (Boolean.TRUE.equals(s.get("good"))) {
                            p = FanoutScenario.num(FanoutScenario.cast(s.get("latencyMs")).get("p99"));
                        }
                    }
                }
                return new double[] {best, p};
            }
            return new double[] {FanoutScenario.num(m.get("deliveriesPerSec")),
                FanoutScenario.num(FanoutScenario.cast(m.get("latencyMs")).get("p99"))};
        }

        private static double median(List<double[]> vs, int i) {
            double[] a = vs.stream().mapToDouble(v -> v[i]).sorted().toArray();
            return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        }
    }
}
