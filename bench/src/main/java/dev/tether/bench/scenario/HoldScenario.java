package dev.tether.bench.scenario;

import dev.tether.bench.loadgen.Fleet;
import dev.tether.bench.server.ProcStats;
import dev.tether.bench.server.ServerStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hold}: N idle connections, each with a session and one subscription, answering pings.
 * How many held, server memory per connection (RSS, heap, direct) and the server's CPU while idle
 * (which is the heartbeat's cost).
 */
@Command(name = "hold", mixinStandardHelpOptions = true,
        description = "N connections with a session and one subscription, answering pings: held count, memory and CPU per connection.")
public final class HoldScenario implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = {"-n", "--connections"}, defaultValue = "5000", description = "Connections (default ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--channels", defaultValue = "1", description = "Channels the connections spread over (default ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = {"-d", "--duration"}, defaultValue = "30", description = "Seconds held after all are connected (default ${DEFAULT-VALUE}).")
    int duration;

    @Option(names = "--settle", defaultValue = "5", description = "Seconds after connecting before the CPU window (default ${DEFAULT-VALUE}).")
    int settle;

    @Option(names = "--target", defaultValue = "both", description = "tether, baseline or both (default ${DEFAULT-VALUE}).")
    String target;

    Map<String, Object> lastResult;

    @Override
    public Integer call() {
        Report report = new Report("hold", common.label);
        report.put("connections", connections).put("duration", duration).put("pingMs", common.pingMillis);
        Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
        for (String kind : common.targets(target)) {
            Map<String, Object> r = run(kind);
            byKind.put(kind, r);
            report.put(kind, r);
            report.line("%-8s held %s of %d (dropped %s); RSS +%s KiB/conn, heap %s B/conn, direct %s B/conn; CPU %s%% of a core,"
                    + " event loops %s%% (%s pings)",
                    kind, r.get("held"), connections, r.get("dropped"), r.get("rssKibPerConnection"),
                    r.get("heapBytesPerConnection"), r.get("directBytesPerConnection"), r.get("serverCpuPercent"),
                    r.getOrDefault("eventLoopCpuPercent", "?"), r.get("pingsInWindow"));
        }
        if (byKind.size() == 2) {
            Map<String, Object> t = byKind.get("tether");
            Map<String, Object> b = byKind.get("baseline");
            Map<String, Object> ratio = new LinkedHashMap<>();
            for (String k : new String[] {"rssKibPerConnection", "heapBytesPerConnection", "serverCpuPercent",
                    "eventLoopCpuPercent"}) {
                ratio.put(k, Report.ratio(FanoutScenario.num(t.get(k)), FanoutScenario.num(b.get(k))));
            }
            report.put("ratioToBaseline", ratio);
            report.line("tether / baseline: %s", ratio);
        }
        lastResult = report.fields();
        report.print(System.out, common.jsonOut);
        return 0;
    }

    private Map<String, Object> run(String kind) {
        Common.progress("hold %s: %d connections", kind, connections);
        try (Run run = new Run(common, kind, connections, 1, Math.max(1, channels), "hold:", 200)) {
            ServerStats before = run.server.stats(true);
            Map<String, Object> r = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            r.put("allSubscribed", run.openSubscribers());
            r.put("connectSeconds", Report.round((System.nanoTime() - t0) / 1e9, 2));
            Common.sleep(settle * 1000L);
            Fleet.Counts c0 = run.fleets.all().counts();
            ServerStats s0 = run.server.stats(false);
            long w0 = System.nanoTime();
            Common.sleep(duration * 1000L);
            ServerStats s1 = run.server.stats(false);
            double seconds = (System.nanoTime() - w0) / 1e9;
            Fleet.Counts c1 = run.fleets.all().counts();
            ServerStats after = run.server.stats(true);
            long held = c1.subscribed() - c1.dropped();
            r.put("held", held);
            r.put("dropped", c1.dropped());
            r.put("serverConnections", after.connections());
            r.put("serverOpenFiles", after.openFiles());
            double n = Math.max(1, held);
            r.put("rssKibBefore", before.rssKib());
            r.put("rssKibAfter", after.rssKib());
            r.put("rssKibPerConnection", Report.round((after.rssKib() - before.rssKib()) / n, 2));
            r.put("heapBytesPerConnection", Report.round((after.heapUsedBytes() - before.heapUsedBytes()) / n, 0));
            r.put("directBytesPerConnection", Report.round((after.directBytes() - before.directBytes()) / n, 0));
            r.put("nettyDirectBytesPerConnection", after.nettyDirectBytes() < 0 ? -1
                    : Report.round((after.nettyDirectBytes() - before.nettyDirectBytes()) / n, 0));
            double cpuSeconds = (s1.cpuTicks() - s0.cpuTicks()) / (double) ProcStats.TICKS_PER_SECOND;
            r.put("windowSeconds", Report.round(seconds, 2));
            r.put("serverCpuPercent", Report.round(100 * cpuSeconds / seconds, 3));
            long pings = c1.pings() - c0.pings();
            r.put("pingsInWindow", pings);
            r.put("serverCpuUsPerPing", pings == 0 ? -1 : Report.round(cpuSeconds * 1e6 / pings, 2));
            // The event loops alone: on an idle server they do nothing but the heartbeat (pings,
            // pongs, the sweep), so this is the CPU spent on heartbeats, without the JVM's own
            // threads (JIT, GC, samplers) that the whole-process figure includes.
            if (s0.ioCpuNanos() >= 0 && s1.ioCpuNanos() >= 0) {
                double ioSeconds = (s1.ioCpuNanos() - s0.ioCpuNanos()) / 1e9;
                r.put("eventLoopCpuPercent", Report.round(100 * ioSeconds / seconds, 3));
                r.put("eventLoopCpuUsPerPing", pings == 0 ? -1 : Report.round(ioSeconds * 1e6 / pings, 2));
            }
            r.put("serverIsolated", run.server.isolated());
            r.put("generatorCpuPercent", Report.round(100 * (c1.cpuTicks() - c0.cpuTicks())
                    / (double) ProcStats.TICKS_PER_SECOND / seconds, 3));
            r.put("disconnects", c1.disconnects());
            return r;
        }
    }
}
