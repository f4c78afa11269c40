package dev.tether.bench.scenario;

import dev.tether.bench.server.ProcStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code publish}: publication throughput and reply latency into the storage in use (closed loop:
 * each publisher keeps a bounded number of publishes outstanding), without and with idempotency keys.
 */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = "Publish throughput and reply latency, without and with idempotency keys.")
public final class PublishScenario implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = {"-p", "--publishers"}, defaultValue = "20", description = "Publisher connections (default ${DEFAULT-VALUE}).")
    int publishers;

    @Option(names = "--outstanding", defaultValue = "16", description = "Publishes in flight per publisher (default ${DEFAULT-VALUE}).")
    int outstanding;

    @Option(names = "--channels", defaultValue = "100", description = "Channels published to (default ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = {"-s", "--payload"}, defaultValue = "128", description = "Payload bytes (default ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = {"-d", "--duration"}, defaultValue = "15", description = "Measured seconds per phase (default ${DEFAULT-VALUE}).")
    int duration;

    @Option(names = "--warmup", defaultValue = "3", description = "Seconds before measuring, per phase (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--target", defaultValue = "tether", description = "tether, baseline or both (default ${DEFAULT-VALUE}).")
    String target;

    Map<String, Object> lastResult;

    @Override
    public Integer call() {
        Report report = new Report("publish", common.label);
        report.put("publishers", publishers).put("outstanding", outstanding).put("channels", channels).put("payload", payload);
        for (String kind : common.targets(target)) {
            Map<String, Object> byPhase = new LinkedHashMap<>();
            for (boolean keys : new boolean[] {false, true}) {
                Map<String, Object> r = phase(kind, keys);
                byPhase.put(keys ? "withKeys" : "withoutKeys", r);
                report.line("%-8s %-12s %s publishes/s, reply %s; server %s µs CPU/publish; errors %s",
                        kind, keys ? "with keys" : "without keys", r.get("publishesPerSec"),
                        Report.latencyText(FanoutScenario.cast(r.get("replyLatencyMs"))), r.get("serverCpuUsPerPublish"),
                        r.get("errorReplies"));
            }
            report.put(kind, byPhase);
        }
        lastResult = report.fields();
        report.print(System.out, common.jsonOut);
        return 0;
    }

    private Map<String, Object> phase(String kind, boolean keys) {
        Common.progress("publish %s: %d publishers x %d outstanding, keys=%s", kind, publishers, outstanding, keys);
        try (Run run = new Run(common, kind, 0, 0, channels, "pub:", 0)) {
            run.addPublishers(publishers, 0, channels, payload, keys, outstanding, warmup + duration + 2L);
            Common.sleep(warmup * 1000L);
            run.fleets.local().stats().publishLatency.getIntervalHistogram();
            Run.Mark a = run.mark();
            Common.sleep(duration * 1000L);
            Run.Mark b = run.mark();
            Histogram h = run.fleets.local().stats().publishLatency.getIntervalHistogram();
            run.stopPublishing();
            double seconds = (b.nanos() - a.nanos()) / 1e9;
            long replies = b.published() - a.published();
            double cpu = (b.server().cpuTicks() - a.server().cpuTicks()) / (double) ProcStats.TICKS_PER_SECOND;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("publishesPerSec", Report.round(replies / seconds, 1));
            r.put("replyLatencyMs", Report.latencyMillis(h));
            r.put("serverCpuPercent", Report.round(100 * cpu / seconds, 1));
            r.put("serverCpuUsPerPublish", replies == 0 ? -1 : Report.round(cpu * 1e6 / replies, 2));
            r.put("duplicateReplies", run.fleets.local().stats().duplicateReplies.sum());
            r.put("errorReplies", run.fleets.local().stats().errorReplies.sum());
            r.put("serverIsolated", run.server.isolated());
            return r;
        }
    }
}
