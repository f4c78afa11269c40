package dev.tether.bench.scenario;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code fanout}: one channel, N subscribers, P publishers at R publications/s with S-byte
 * payloads. Deliveries/s, end-to-end latency, CPU per delivery, and lost/duplicated/reordered.
 * With {@code --max}, raises the rate step by step until p99 passes the limit or anything is lost.
 */
@Command(name = "fanout", mixinStandardHelpOptions = true,
        description = "One channel, N subscribers, P publishers at R pubs/s; --max finds the highest rate with no loss and p99 under the limit.")
public final class FanoutScenario implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    CommandSpec spec;

    @Option(names = {"-n", "--subscribers"}, defaultValue = "1000", description = "Subscribers (default ${DEFAULT-VALUE}).")
    int subscribers;

    @Option(names = {"-p", "--publishers"}, defaultValue = "1", description = "Publisher connections (default ${DEFAULT-VALUE}).")
    int publishers;

    @Option(names = {"-r", "--rate"}, defaultValue = "25", description = "Publications per second, all publishers together (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = {"-s", "--payload"}, defaultValue = "128", description = "Payload bytes (default ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = {"-d", "--duration"}, defaultValue = "30", description = "Measured seconds (default ${DEFAULT-VALUE}).")
    int duration;

    @Option(names = "--warmup", defaultValue = "5", description = "Seconds before measuring (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--ack-ms", defaultValue = "0", description = "Subscribers ack every this many ms; 0 = never (default ${DEFAULT-VALUE}: the baseline ignores acks).")
    int ackMillis;

    @Option(names = "--target", defaultValue = "both", description = "tether, baseline or both (default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--legs", defaultValue = "0",
            description = "Fixed rate, both targets: keep both servers up and measure them in this many alternating legs "
                    + "of --duration/legs seconds each (baseline, tether; then tether, baseline; ...), so the two share the "
                    + "machine's quiet and busy minutes; --duration must be a multiple of it. 0 = one whole run after the "
                    + "other (default ${DEFAULT-VALUE}).")
    int legs;

    @Option(names = "--max", description = "Raise the rate step by step until p99 > --p99-limit-ms or any loss; report the last good rate.")
    boolean max;

    @Option(names = "--max-start", defaultValue = "50", description = "First rate of --max (default ${DEFAULT-VALUE}).")
    double maxStart;

    @Option(names = "--half-warmup", defaultValue = "15",
            description = "Seconds at half the last good rate on the fresh server before measuring it (default ${DEFAULT-VALUE}).")
    int halfWarmup;

    @Option(names = "--max-factor", defaultValue = "1.5", description = "Rate multiplier per step (default ${DEFAULT-VALUE}).")
    double maxFactor;

    @Option(names = "--max-steps", defaultValue = "16", description = "Steps at most (default ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--step-seconds", defaultValue = "8", description = "Measured seconds per step (default ${DEFAULT-VALUE}).")
    int stepSeconds;

    @Option(names = "--p99-limit-ms", defaultValue = "250", description = "p99 above this ends --max (default ${DEFAULT-VALUE}).")
    double p99LimitMillis;

    @Option(names = "--drain-ms", defaultValue = "10000", description = "Time allowed for the last deliveries (default ${DEFAULT-VALUE}).")
    long drainMillis;

    static final int MAX_OUTSTANDING = 4096;

    /** The results of the last call, for the smoke tests and the sweep. */
    Map<String, Object> lastResult;

    @Override
    public Integer call() {
        Report report = new Report(max ? "fanout-max" : "fanout", common.label);
        report.put("subscribers", subscribers).put("publishers", publishers).put("payload", payload)
                .put("ackMs", ackMillis);
        if (!max) {
            report.put("rate", rate).put("duration", duration);
        }
        Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
        List<String> kinds = common.targets(target);
        if (legs < 0 || legs > 0 && (max || kinds.size() < 2 || duration % legs != 0)) {
            throw new ParameterException(spec.commandLine(), "--legs " + legs + " needs a fixed rate (no --max), "
                    + "--target both, and a --duration (" + duration + " s) that is a multiple of it");
        }
        if (legs > 0) {
            report.put("legs", legs);
            byKind.putAll(runLegs(kinds));
            byKind.forEach(report::put);
        } else {
            for (String kind : kinds) {
                Map<String, Object> r = max ? runMax(kind) : runFixed(kind);
                byKind.put(kind, r);
                report.put(kind, r);
            }
        }
        summarize(report, byKind);
        lastResult = report.fields();
        report.print(System.out, common.jsonOut);
        return 0;
    }

    private Map<String, Object> runFixed(String kind) {
        Common.progress("fanout %s: %d subscribers, %.1f pubs/s, %d B", kind, subscribers, rate, payload);
        try (Run run = new Run(common, kind, subscribers, 1, 1, "fanout:", ackMillis)) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("allSubscribed", run.openSubscribers());
            run.addPublishers(publishers, rate, 1, payload, false, MAX_OUTSTANDING, warmup + duration + 5L);
            Common.sleep(warmup * 1000L);
            run.takeLatency();
            Run.Mark a = run.mark();
            Common.sleep(duration * 1000L);
            Run.Mark b = run.mark();
            Histogram h = run.takeLatency();
            long[] tops = run.stopPublishing();
            r.putAll(run.window(a, b));
            r.put("expectedDeliveriesPerSec", Report.round(rate * subscribers, 1));
            r.put("latencyMs", Report.latencyMillis(h));
            r.putAll(run.verify(tops, drainMillis));
            return r;
        }
    }

    /**
     * Both servers up at once (both on the server's core), each with its own subscribers and
     * publisher; the publishers take turns. Every leg is preceded by a second at the rate so the
     * measured window starts in steady state. The idle server costs little meanwhile (its
     * subscribers' pings, 40 a second for 1,000 at 25 s), and each server's CPU is read from its
     * own process.
     */
    private Map<String, Map<String, Object>> runLegs(List<String> kinds) {
        int legSeconds = duration / legs;
        Common.progress("fanout %s in %d alternating legs of %d s: %d subscribers, %.1f pubs/s, %d B", kinds, legs,
                legSeconds, subscribers, rate, payload);
        Map<String, Run> runs = new LinkedHashMap<>();
        try {
            Map<String, Boolean> subscribed = new LinkedHashMap<>();
            for (String kind : kinds) {
                Run run = new Run(common, kind, subscribers, 1, 1, "fanout:", ackMillis);
                runs.put(kind, run);
                subscribed.put(kind, run.openSubscribers());
                run.addPublishers(publishers, 0.001, 1, payload, false, MAX_OUTSTANDING, 1);
            }
            for (String kind : kinds) { // a fresh JVM each: warm the JIT before the first leg
                Run run = runs.get(kind);
                run.setRate(rate, warmup + 1L);
                Common.sleep(warmup * 1000L);
                run.stopPublishing();
            }
            Map<String, List<Run.Mark>> starts = new LinkedHashMap<>();
            Map<String, List<Run.Mark>> ends = new LinkedHashMap<>();
            Map<String, Histogram> latency = new LinkedHashMap<>();
            Map<String, List<Double>> perLeg = new LinkedHashMap<>();
            Map<String, long[]> tops = new LinkedHashMap<>();
            for (int leg = 0; leg < legs; leg++) {
                List<String> order = new ArrayList<>(kinds);
                if (leg % 2 == 1) {
                    Collections.reverse(order);
                }
                for (String kind : order) {
                    Run run = runs.get(kind);
                    Run.Window w = run.publishFor(rate, legSeconds);
                    Histogram h = run.takeLatency();
                    tops.put(kind, run.stopPublishing());
                    starts.computeIfAbsent(kind, k -> new ArrayList<>()).add(w.start());
                    ends.computeIfAbsent(kind, k -> new ArrayList<>()).add(w.end());
                    latency.merge(kind, h, (x, y) -> {
                        x.add(y);
                        return x;
                    });
                    double legCost = num(run.window(w.start(), w.end()).get("serverCpuUsPerDelivery"));
                    perLeg.computeIfAbsent(kind, k -> new ArrayList<>()).add(legCost);
                }
            }
            Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
            for (String kind : kinds) {
                Run run = runs.get(kind);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("allSubscribed", subscribed.get(kind));
                r.putAll(run.window(starts.get(kind), ends.get(kind)));
                r.put("serverCpuUsPerDeliveryByLeg", perLeg.get(kind));
                r.put("expectedDeliveriesPerSec", Report.round(rate * subscribers, 1));
                r.put("latencyMs", Report.latencyMillis(latency.get(kind)));
                r.putAll(run.verify(tops.get(kind), drainMillis));
                byKind.put(kind, r);
            }
            return byKind;
        } finally {
            runs.values().forEach(Run::close);
        }
    }

    private Map<String, Object> runMax(String kind) {
        Common.progress("fanout --max %s: %d subscribers, from %.0f pubs/s x%.2f", kind, subscribers, maxStart, maxFactor);
        Map<String, Object> r = new LinkedHashMap<>();
        double lastGood = 0;
        try (Run run = new Run(common, kind, subscribers, 1, 1, "fanout:", ackMillis)) {
            r.put("allSubscribed", run.openSubscribers());
            run.addPublishers(publishers, 0.001, 1, payload, false, MAX_OUTSTANDING, 1);
            List<Map<String, Object>> steps = new ArrayList<>();
            // A fresh JVM: warm the JIT at the first rate, or the first step measures compilation.
            run.setRate(maxStart, warmup + 1L);
            Common.sleep(warmup * 1000L);
            run.stopPublishing();
            long lostBefore = 0;
            double stepRate = maxStart;
            for (int i = 0; i < maxSteps; i++) {
                Map<String, Object> s = step(run, stepRate, lostBefore);
                lostBefore += (long) s.get("lost");
                steps.add(s);
                boolean good = (boolean) s.get("good");
                Common.progress("%s step %.0f pubs/s: %s deliveries/s, p99 %s ms, lost %s -> %s", kind, stepRate,
                        s.get("deliveriesPerSec"), ((Map<?, ?>) s.get("latencyMs")).get("p99"), s.get("lost"),
                        good ? "good" : "stop");
                if (!good) {
                    break;
                }
                lastGood = stepRate;
                stepRate = Math.ceil(stepRate * maxFactor);
            }
            r.put("lastGoodRate", lastGood);
            r.put("lastGoodDeliveriesPerSec", steps.stream().filter(s -> (boolean) s.get("good"))
                    .map(s -> s.get("deliveriesPerSec")).reduce((x, y) -> y).orElse(0.0));
            r.put("steps", steps);
        }
        if (lastGood > 0) {
            // On a fresh server and fleet: the failing step may have cut slow subscribers off.
            try (Run run = new Run(common, kind, subscribers, 1, 1, "fanout:", ackMillis)) {
                run.openSubscribers();
                run.addPublishers(publishers, 0.001, 1, payload, false, MAX_OUTSTANDING, 1);
                // A fresh JVM: let the JIT catch up at this rate before measuring, like the fixed-load
                // runs' --warmup 15 (a 5 s warm-up still measured C2 compiling the batch path).
                run.setRate(lastGood / 2, halfWarmup + 1L);
                Common.sleep(halfWarmup * 1000L);
                run.stopPublishing();
                Map<String, Object> half = step(run, lastGood / 2, 0);
                r.put("atHalfRate", half);
                Common.progress("%s at half the last good rate (%.0f pubs/s): p99 %s ms, lost %s", kind, lastGood / 2,
                        cast(half.get("latencyMs")).get("p99"), half.get("lost"));
            }
        }
        return r;
    }

    private Map<String, Object> step(Run run, double stepRate, long lostBefore) {
        Run.Window w = run.publishFor(stepRate, stepSeconds);
        long[] tops = run.stopPublishing();
        Map<String, Object> v = run.verify(tops, Math.min(drainMillis, 5000));
        Histogram h = run.takeLatency();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("rate", stepRate);
        s.putAll(run.window(w.start(), w.end()));
        s.put("latencyMs", Report.latencyMillis(h));
        long lost = (long) v.get("lost") - lostBefore;
        s.put("lost", lost);
        s.put("duplicated", v.get("duplicated"));
        s.put("reordered", v.get("reordered"));
        s.put("dropped", v.get("dropped"));
        s.put("notDrained", v.get("notDrained"));
        double p99 = (double) ((Map<?, ?>) s.get("latencyMs")).get("p99");
        s.put("good", p99 <= p99LimitMillis && lost == 0 && (long) v.get("dropped") == 0
                && (long) v.get("notDrained") == 0 && (long) v.get("duplicated") == 0 && (long) v.get("reordered") == 0);
        return s;
    }

    private void summarize(Report report, Map<String, Map<String, Object>> byKind) {
        for (var e : byKind.entrySet()) {
            Map<String, Object> r = e.getValue();
            if (max) {
                report.line("%-8s last good rate %s pubs/s (%s deliveries/s) with %d subscribers", e.getKey(),
                        r.get("lastGoodRate"), r.get("lastGoodDeliveriesPerSec"), subscribers);
                if (r.get("atHalfRate") instanceof Map<?, ?> half) {
                    report.line("%-8s at half that rate: %s", e.getKey(),
                            Report.latencyText(cast(half.get("latencyMs"))));
                }
            } else {
                report.line("%-8s %s deliveries/s (expected %s), server %s µs CPU/delivery (%s%% of a core), generator %s µs",
                        e.getKey(), r.get("deliveriesPerSec"), r.get("expectedDeliveriesPerSec"),
                        r.get("serverCpuUsPerDelivery"), r.get("serverCpuPercent"), r.get("generatorCpuUsPerDelivery"));
                report.line("%-8s latency %s", e.getKey(), Report.latencyText(cast(r.get("latencyMs"))));
                report.line("%-8s lost %s, duplicated %s, reordered %s, dropped %s", e.getKey(), r.get("lost"),
                        r.get("duplicated"), r.get("reordered"), r.get("dropped"));
            }
        }
        Map<String, Object> t = byKind.get("tether");
        Map<String, Object> b = byKind.get("baseline");
        if (t != null && b != null) {
            Map<String, Object> ratio = new LinkedHashMap<>();
            if (max) {
                ratio.put("lastGoodRate", Report.ratio(num(t.get("lastGoodRate")), num(b.get("lastGoodRate"))));
            } else {
                ratio.put("serverCpuUsPerDelivery", Report.ratio(num(t.get("serverCpuUsPerDelivery")),
                        num(b.get("serverCpuUsPerDelivery"))));
                if (t.get("serverCpuUsPerDeliveryByLeg") instanceof List<?> tl
                        && b.get("serverCpuUsPerDeliveryByLeg") instanceof List<?> bl) {
                    // Leg i of one server against leg i of the other: neighbours in time.
                    List<Double> byLeg = new ArrayList<>();
                    for (int i = 0; i < Math.min(tl.size(), bl.size()); i++) {
                        byLeg.add(Report.ratio(num(tl.get(i)), num(bl.get(i))));
                    }
                    ratio.put("serverCpuUsPerDeliveryByLeg", byLeg);
                    ratio.put("serverCpuUsPerDeliveryLegMedian", median(byLeg));
                }
                ratio.put("deliveriesPerSec", Report.ratio(num(t.get("deliveriesPerSec")), num(b.get("deliveriesPerSec"))));
                ratio.put("p99", Report.ratio(num(cast(t.get("latencyMs")).get("p99")), num(cast(b.get("latencyMs")).get("p99"))));
            }
            report.put("ratioToBaseline", ratio);
            report.line("tether / baseline: %s", ratio);
        }
    }

    static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        v.sort(null);
        int n = v.size();
        return n == 0 ? 0 : n % 2 == 1 ? v.get(n / 2) : Report.round((v.get(n / 2 - 1) + v.get(n / 2)) / 2, 3);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : 0;
    }
}
