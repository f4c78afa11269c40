package dev.tether.bench.scenario;

import dev.tether.bench.loadgen.Fleet;
import dev.tether.bench.loadgen.FleetSpec;
import dev.tether.bench.loadgen.Publisher;
import dev.tether.bench.server.ProcStats;
import dev.tether.bench.server.ServerStats;
import dev.tether.bench.server.ServerTarget;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * One server under test with its subscribers and publishers: the steps the delivery scenarios
 * (fanout, channels, max) share. Every wait is bounded.
 */
final class Run implements AutoCloseable {
    private static final long PUBLISHERS_READY_MILLIS = 30_000;
    private static final long OUTSTANDING_DRAIN_MILLIS = 15_000;

    final Common common;
    final ServerTarget server;
    final Common.Fleets fleets;
    final int subscribers;
    final List<Publisher> publishers = new ArrayList<>();

    Run(Common common, String kind, int subscribers, int subsPerClient, int channels, String prefix, int ackMillis) {
        this.common = common;
        this.subscribers = subscribers;
        this.server = common.startServer(kind);
        Common.Fleets f;
        try {
            FleetSpec spec = common.spec(server.wsUrl(), subscribers, subsPerClient, channels, prefix, ackMillis);
            f = common.fleets(spec);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        this.fleets = f;
    }

    String kind() {
        return server.kind();
    }

    /** Opens every subscriber; true when all subscribed within the (generous, bounded) time. */
    boolean openSubscribers() {
        long t0 = System.nanoTime();
        fleets.all().open();
        long timeout = 60_000 + 3_000L * subscribers / Math.max(1, common.connectRate);
        boolean ok = Common.await(() -> {
            Fleet.Counts c = fleets.all().counts();
            return c.subscribed() + c.subscribeErrors() + c.giveUps() >= subscribers;
        }, timeout);
        Fleet.Counts c = fleets.all().counts();
        Common.progress("%s: %d of %d subscribed in %.1f s (%d connect failures)", kind(), c.subscribed(), subscribers,
                (System.nanoTime() - t0) / 1e9, c.failures());
        return ok && c.subscribed() == subscribers;
    }

    /** Adds {@code count} publishers sharing {@code totalRate} over {@code channels}; waits until connected. */
    void addPublishers(int count, double totalRate, int channels, int payload, boolean keys, int maxOutstanding,
                       long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long maxCount = totalRate > 0 ? (long) (totalRate / count * seconds * 1.2) + 1000 : Long.MAX_VALUE;
        long before = fleets.local().stats().sessions.sum();
        for (int p = 0; p < count; p++) {
            List<Integer> mine = new ArrayList<>();
            for (int ch = p % channels; ch < channels; ch += count) {
                mine.add(ch);
            }
            if (mine.isEmpty()) {
                mine.add(p % channels);
            }
            int[] chans = mine.stream().mapToInt(Integer::intValue).toArray();
            publishers.add(fleets.local().addPublisher(1_000_000_000 + p,
                    new Publisher.Plan(chans, totalRate / count, maxOutstanding, payload, keys, maxCount, deadline)));
        }
        if (!Common.await(() -> fleets.local().stats().sessions.sum() - before >= count, PUBLISHERS_READY_MILLIS)) {
            throw new IllegalStateException("publishers did not connect within " + PUBLISHERS_READY_MILLIS + " ms");
        }
    }

    void setRate(double totalRate, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        publishers.forEach(p -> p.setRate(totalRate / publishers.size(), deadline));
    }

    /** Stops publishing and waits (bounded) for the last replies; returns each channel's top. */
    long[] stopPublishing() {
        publishers.forEach(Publisher::halt);
        Common.await(() -> fleets.local().outstandingPublishes() == 0, OUTSTANDING_DRAIN_MILLIS);
        return fleets.local().tops();
    }

    /**
     * Publishes at {@code totalRate}: a second to settle, then a measured window of {@code seconds}
     * with the latency histogram restarted at its start. Publishing goes on until stopped.
     */
    Window publishFor(double totalRate, int seconds) {
        setRate(totalRate, seconds + 3L);
        Common.sleep(1000);
        takeLatency();
        Mark a = mark();
        Common.sleep(seconds * 1000L);
        return new Window(a, mark());
    }

    record Window(Mark start, Mark end) {
    }

    /** Server, generator and delivery counters at one moment. */
    record Mark(long nanos, ServerStats server, long generatorTicks, long deliveries, long published) {
    }

    Mark mark() {
        Fleet.Counts c = fleets.all().counts();
        return new Mark(System.nanoTime(), server.stats(false), c.cpuTicks(), c.deliveries(),
                fleets.local().stats().publishReplies.sum());
    }

    /** Throughput and CPU between two marks. */
    Map<String, Object> window(Mark a, Mark b) {
        return window(List.of(a), List.of(b));
    }

    /** Throughput and CPU over several windows taken together: {@code starts[i]} to {@code ends[i]}. */
    Map<String, Object> window(List<Mark> starts, List<Mark> ends) {
        if (starts.isEmpty() || starts.size() != ends.size()) {
            throw new IllegalArgumentException("windows need as many ends as starts, at least one: "
                    + starts.size() + " starts, " + ends.size() + " ends");
        }
        double seconds = 0;
        long deliveries = 0;
        long published = 0;
        long serverTicks = 0;
        long generatorTicks = 0;
        for (int i = 0; i < starts.size(); i++) {
            Mark a = starts.get(i);
            Mark b = ends.get(i);
            seconds += (b.nanos() - a.nanos()) / 1e9;
            deliveries += b.deliveries() - a.deliveries();
            published += b.published() - a.published();
            serverTicks += b.server().cpuTicks() - a.server().cpuTicks();
            generatorTicks += b.generatorTicks() - a.generatorTicks();
        }
        double serverCpuSeconds = serverTicks / (double) ProcStats.TICKS_PER_SECOND;
        double genCpuSeconds = generatorTicks / (double) ProcStats.TICKS_PER_SECOND;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seconds", Report.round(seconds, 2));
        m.put("deliveries", deliveries);
        m.put("deliveriesPerSec", Report.round(deliveries / seconds, 1));
        m.put("publicationsPerSec", Report.round(published / seconds, 1));
        m.put("serverCpuPercent", Report.round(100 * serverCpuSeconds / seconds, 1));
        m.put("serverCpuUsPerDelivery", deliveries == 0 ? -1 : Report.round(serverCpuSeconds * 1e6 / deliveries, 3));
        m.put("generatorCpuPercent", Report.round(100 * genCpuSeconds / seconds, 1));
        m.put("generatorCpuUsPerDelivery", deliveries == 0 ? -1 : Report.round(genCpuSeconds * 1e6 / deliveries, 3));
        m.put("serverIsolated", server.isolated());
        return m;
    }

    Histogram takeLatency() {
        return fleets.all().takeLatency();
    }

    Map<String, Object> verify(long[] tops, long drainMillis) {
        Fleet.Verify v = fleets.all().verify(tops, drainMillis);
        Fleet.Counts c = fleets.all().counts();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("subscriptions", v.subscriptions());
        m.put("lost", v.lost());
        m.put("duplicated", v.duplicates());
        m.put("reordered", v.reordered());
        m.put("notDrained", v.notDrained());
        m.put("dropped", c.dropped());
        m.put("unparsed", c.unparsed());
        m.put("errorReplies", c.errorReplies());
        m.put("disconnects", c.disconnects());
        long total = 0;
        for (long t : tops) {
            total += t;
        }
        m.put("publications", total);
        return m;
    }

    @Override
    public void close() {
        try {
            fleets.close();
        } finally {
            server.close();
        }
    }
}
