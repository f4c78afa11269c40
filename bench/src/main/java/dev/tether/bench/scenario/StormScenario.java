package dev.tether.bench.scenario;

import dev.tether.bench.loadgen.Fleet;
import dev.tether.bench.server.ProcStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code storm}: every subscriber's TCP connection is reset at the same instant (a network cut;
 * the server process and its in-memory sessions stay, as they would behind a failed switch or
 * load balancer), while a publisher keeps publishing. Each client comes back after a random delay
 * in [0, spread], resumes its session and must get everything it missed: time until all resumed
 * and recovered, how evenly the reconnects spread, and lost/duplicated/reordered.
 */
@Command(name = "storm", mixinStandardHelpOptions = true,
        description = "Cut every connection at once, measure until every session resumed and recovered.")
public final class StormScenario implements Callable<Integer> {
    private static final long BUCKET_MILLIS = 250;

    @Mixin
    Common common;

    @Option(names = {"-n", "--connections"}, defaultValue = "5000", description = "Subscriber connections (default ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--channels", defaultValue = "10", description = "Channels (default ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = {"-r", "--rate"}, defaultValue = "50", description = "Publications per second during the whole run (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--spread-ms", defaultValue = "2000", description = "Clients reconnect after a random delay up to this (default ${DEFAULT-VALUE}).")
    long spreadMillis;

    @Option(names = "--settle", defaultValue = "5", description = "Seconds of publishing before the cut (default ${DEFAULT-VALUE}).")
    int settle;

    @Option(names = "--after", defaultValue = "3", description = "Seconds of publishing after all recovered (default ${DEFAULT-VALUE}).")
    int after;

    @Option(names = "--deadline", defaultValue = "60", description = "Seconds after the cut to give up waiting (default ${DEFAULT-VALUE}).")
    int deadline;

    @Option(names = "--ack-ms", defaultValue = "200", description = "Ack period in ms (default ${DEFAULT-VALUE}).")
    int ackMillis;

    Map<String, Object> lastResult;

    @Override
    public Integer call() {
        Report report = new Report("storm", common.label);
        report.put("connections", connections).put("channels", channels).put("rate", rate).put("spreadMs", spreadMillis);
        Common.progress("storm: %d connections over %d channels, %.0f pubs/s, reconnect spread %d ms", connections,
                channels, rate, spreadMillis);
        try (Run run = new Run(common, "tether", connections, 1, channels, "storm:", ackMillis)) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("allSubscribed", run.openSubscribers());
            long total = settle + deadline + after + 10L;
            run.addPublishers(1, rate, channels, 128, false, FanoutScenario.MAX_OUTSTANDING, total);
            Common.sleep(settle * 1000L);
            Fleet fleet = run.fleets.all();
            Fleet.Counts before = fleet.counts();
            Run.Mark atCut = run.mark();
            long cut = System.nanoTime();
            fleet.cut(spreadMillis);
            boolean all = Common.await(() -> fleet.counts().recovered() - before.recovered() >= connections,
                    deadline * 1000L);
            double waited = (System.nanoTime() - cut) / 1e9;
            Run.Mark atRecovered = run.mark();
            Common.progress("storm: %s after %.1f s", all ? "all recovered" : "NOT all recovered", waited);
            Common.sleep(after * 1000L);
            long[] tops = run.stopPublishing();
            Map<String, Object> v = run.verify(tops, 10_000);
            Fleet.Storm s = fleet.takeStorm();
            Fleet.Counts c = fleet.counts();
            r.put("allRecovered", all);
            r.put("resumed", c.resumed() - before.resumed());
            r.put("notResumed", c.notResumed() - before.notResumed());
            r.put("recovered", c.recovered() - before.recovered());
            r.put("gaveUp", c.giveUps());
            r.put("connectFailures", c.failures() - before.failures());
            r.put("allResumedMs", s.resumed().getTotalCount() == 0 ? -1 : s.resumed().getMaxValue());
            r.put("allRecoveredMs", s.recovered().getTotalCount() == 0 ? -1 : s.recovered().getMaxValue());
            r.put("resumeMs", percentiles(s.resumed()));
            r.put("recoverMs", percentiles(s.recovered()));
            r.put("reconnectSpread", spread(s.reconnectAt(), Math.max(spreadMillis, s.reconnectAt().getMaxValue())));
            r.put("resumeSpread", spread(s.resumed(), Math.max(spreadMillis, s.resumed().getMaxValue())));
            r.put("reconnectLateMs", percentiles(s.reconnectLate()));
            // CPU from the cut until all recovered (or the deadline), in % of one core: a generator
            // near 100 % cannot keep its reconnect schedule, and the times above are partly its own.
            double stormSeconds = (atRecovered.nanos() - atCut.nanos()) / 1e9;
            r.put("serverCpuPercentDuringStorm", cpuPercent(atCut.server().cpuTicks(), atRecovered.server().cpuTicks(), stormSeconds));
            r.put("generatorCpuPercentDuringStorm", cpuPercent(atCut.generatorTicks(), atRecovered.generatorTicks(), stormSeconds));
            r.putAll(v);
            r.put("redelivered", fleet.verify(tops, 0).redelivered());
            report.put("tether", r);
            report.line("storm: %d clients cut; %s resumed, %s recovered; all resumed after %s ms, all recovered after %s ms",
                    connections, r.get("resumed"), r.get("recovered"), r.get("allResumedMs"), r.get("allRecoveredMs"));
            report.line("reconnects per %d ms: %s", BUCKET_MILLIS, r.get("reconnectSpread"));
            report.line("reconnects started late by (ms, the generator's own delay): %s; CPU during the storm: server %s %%,"
                    + " generator %s %% of a core", r.get("reconnectLateMs"), r.get("serverCpuPercentDuringStorm"),
                    r.get("generatorCpuPercentDuringStorm"));
            report.line("lost %s, duplicated %s, reordered %s (redelivered after resume and filtered: %s), not resumed %s",
                    r.get("lost"), r.get("duplicated"), r.get("reordered"), r.get("redelivered"), r.get("notResumed"));
            lastResult = report.fields();
        }
        report.print(System.out, common.jsonOut);
        return 0;
    }

    /** % of one core between two tick readings; -1 when either is unknown (-1, e.g. no server pid). */
    static double cpuPercent(long ticksBefore, long ticksAfter, double seconds) {
        if (ticksBefore < 0 || ticksAfter < 0 || seconds <= 0) {
            return -1;
        }
        return Report.round(100 * (ticksAfter - ticksBefore) / (double) ProcStats.TICKS_PER_SECOND / seconds, 1);
    }

    private static Map<String, Object> percentiles(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        m.put("p50", h.getValueAtPercentile(50));
        m.put("p99", h.getValueAtPercentile(99));
        m.put("max", h.getMaxValue());
        return m;
    }

    /** Counts per bucket over [0, window], and their coefficient of variation (0 = perfectly even). */
    static Map<String, Object> spread(Histogram h, long windowMillis) {
        List<Long> buckets = new ArrayList<>();
        for (long from = 0; from < Math.max(windowMillis, BUCKET_MILLIS); from += BUCKET_MILLIS) {
            buckets.add(h.getCountBetweenValues(from == 0 ? 0 : from + 1, from + BUCKET_MILLIS));
        }
        double mean = buckets.stream().mapToLong(Long::longValue).average().orElse(0);
        double var = buckets.stream().mapToDouble(b -> (b - mean) * (b - mean)).average().orElse(0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bucketMs", BUCKET_MILLIS);
        m.put("counts", buckets);
        m.put("cv", mean == 0 ? -1 : Report.round(Math.sqrt(var) / mean, 3));
        m.put("maxOverMean", mean == 0 ? -1 : Report.round(buckets.stream().mapToLong(Long::longValue).max().orElse(0) / mean, 2));
        return m;
    }
}
