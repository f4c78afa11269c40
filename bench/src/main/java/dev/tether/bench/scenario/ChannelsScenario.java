package dev.tether.bench.scenario;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code channels}: many channels with a few subscribers each, publications spread across them. */
@Command(name = "channels", mixinStandardHelpOptions = true,
        description = "Many channels, a few subscribers each, publications spread across them.")
public final class ChannelsScenario implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = {"-n", "--connections"}, defaultValue = "5000", description = "Subscriber connections (default ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--subs-per-conn", defaultValue = "20", description = "Channels each connection subscribes to (default ${DEFAULT-VALUE}).")
    int subsPerConn;

    @Option(names = "--subs-per-channel", defaultValue = "2", description = "Subscribers per channel (default ${DEFAULT-VALUE}).")
    int subsPerChannel;

    @Option(names = {"-p", "--publishers"}, defaultValue = "4", description = "Publisher connections (default ${DEFAULT-VALUE}).")
    int publishers;

    @Option(names = {"-r", "--rate"}, defaultValue = "2000", description = "Publications per second over all channels (default ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = {"-s", "--payload"}, defaultValue = "128", description = "Payload bytes (default ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = {"-d", "--duration"}, defaultValue = "30", description = "Measured seconds (default ${DEFAULT-VALUE}).")
    int duration;

    @Option(names = "--warmup", defaultValue = "5", description = "Seconds before measuring (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--ack-ms", defaultValue = "0", description = "Ack period in ms; 0 = never (default ${DEFAULT-VALUE}).")
    int ackMillis;

    @Option(names = "--target", defaultValue = "both", description = "tether, baseline or both (default ${DEFAULT-VALUE}).")
    String target;

    Map<String, Object> lastResult;

    @Override
    public Integer call() {
        int channels = Math.max(1, (int) ((long) connections * subsPerConn / subsPerChannel));
        Report report = new Report("channels", common.label);
        report.put("connections", connections).put("channels", channels).put("subsPerConn", subsPerConn)
                .put("rate", rate).put("payload", payload);
        Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
        for (String kind : common.targets(target)) {
            Common.progress("channels %s: %d connections x %d subscriptions over %d channels, %.0f pubs/s", kind,
                    connections, subsPerConn, channels, rate);
            try (Run run = new Run(common, kind, connections, subsPerConn, channels, "ch:", ackMillis)) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("allSubscribed", run.openSubscribers());
                run.addPublishers(publishers, rate, channels, payload, false, FanoutScenario.MAX_OUTSTANDING,
                        warmup + duration + 5L);
                Common.sleep(warmup * 1000L);
                run.takeLatency();
                Run.Mark a = run.mark();
                Common.sleep(duration * 1000L);
                Run.Mark b = run.mark();
                Histogram h = run.takeLatency();
                long[] tops = run.stopPublishing();
                r.putAll(run.window(a, b));
                r.put("expectedDeliveriesPerSec", Report.round(rate * subsPerChannel, 1));
                r.put("latencyMs", Report.latencyMillis(h));
                r.putAll(run.verify(tops, 10_000));
                byKind.put(kind, r);
                report.put(kind, r);
                report.line("%-8s %s deliveries/s (expected %s), server %s µs CPU/delivery, latency %s; lost %s, duplicated %s, reordered %s",
                        kind, r.get("deliveriesPerSec"), r.get("expectedDeliveriesPerSec"), r.get("serverCpuUsPerDelivery"),
                        Report.latencyText(FanoutScenario.cast(r.get("latencyMs"))), r.get("lost"), r.get("duplicated"),
                        r.get("reordered"));
            }
        }
        if (byKind.size() == 2) {
            Map<String, Object> t = byKind.get("tether");
            Map<String, Object> b = byKind.get("baseline");
            Map<String, Object> ratio = new LinkedHashMap<>();
            ratio.put("serverCpuUsPerDelivery", Report.ratio(FanoutScenario.num(t.get("serverCpuUsPerDelivery")),
                    FanoutScenario.num(b.get("serverCpuUsPerDelivery"))));
            report.put("ratioToBaseline", ratio);
            report.line("tether / baseline: %s", ratio);
        }
        lastResult = report.fields();
        report.print(System.out, common.jsonOut);
        return 0;
    }
}
