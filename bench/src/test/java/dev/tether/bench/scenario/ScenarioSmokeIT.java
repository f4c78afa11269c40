package dev.tether.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every scenario at a tiny size for a few seconds: it runs, reports, and loses nothing. It asserts
 * no speed; speed is what the scenarios themselves measure on a quiet machine (BENCHMARKS.md).
 */
class ScenarioSmokeIT {
    @TempDir
    Path dir;

    private <T extends Callable<Integer>> T run(T scenario, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--log-dir", dir.toString(), "--json-out", dir.resolve("results.jsonl").toString(),
                "--connect-rate", "2000"));
        int code = new CommandLine(scenario).execute(all.toArray(String[]::new));
        assertThat(code).isZero();
        return scenario;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> part(Map<String, Object> result, String key) {
        return (Map<String, Object>) result.get(key);
    }

    private static void assertNothingLost(Map<String, Object> r) {
        assertThat(r.get("allSubscribed")).isEqualTo(true);
        assertThat(r.get("lost")).isEqualTo(0L);
        assertThat(r.get("duplicated")).isEqualTo(0L);
        assertThat(r.get("reordered")).isEqualTo(0L);
        assertThat(r.get("dropped")).isEqualTo(0L);
        assertThat((long) r.get("publications")).isPositive();
    }

    @Test
    void fanoutDeliversEveryPublicationToEverySubscriberOfBothServers() {
        FanoutScenario s = run(new FanoutScenario(), "--server", "inproc", "-n", "50", "-r", "20", "-d", "2",
                "--warmup", "1");
        assertNothingLost(part(s.lastResult, "tether"));
        assertNothingLost(part(s.lastResult, "baseline"));
        assertThat(s.lastResult).containsKey("ratioToBaseline");
    }

    @Test
    void fanoutInAlternatingLegsMeasuresBothServersLegByLeg() {
        FanoutScenario s = run(new FanoutScenario(), "--server", "inproc", "-n", "30", "-r", "20", "-d", "2",
                "--legs", "2", "--warmup", "1");
        for (String kind : List.of("tether", "baseline")) {
            Map<String, Object> r = part(s.lastResult, kind);
            assertNothingLost(r);
            assertThat((List<?>) r.get("serverCpuUsPerDeliveryByLeg")).hasSize(2);
            assertThat((long) r.get("deliveries")).isPositive();
        }
        assertThat(s.lastResult.get("legs")).isEqualTo(2);
        assertThat((List<?>) part(s.lastResult, "ratioToBaseline").get("serverCpuUsPerDeliveryByLeg")).hasSize(2);
    }

    @Test
    void fanoutMaxStepsUpAndReportsALastGoodRate() {
        FanoutScenario s = run(new FanoutScenario(), "--server", "inproc", "--target", "tether", "--max", "-n", "20",
                "--max-start", "20", "--max-steps", "2", "--step-seconds", "1", "--warmup", "1", "--half-warmup", "1");
        Map<String, Object> r = part(s.lastResult, "tether");
        assertThat(r).containsKeys("lastGoodRate", "steps");
        for (Object step : (List<?>) r.get("steps")) {
            Map<String, Object> st = FanoutScenario.cast(step);
            if (Boolean.TRUE.equals(st.get("good"))) {
                assertThat(st.get("lost")).isEqualTo(0L);
            }
        }
    }

    @Test
    void holdKeepsEveryConnectionAnsweringPings() {
        HoldScenario s = run(new HoldScenario(), "--server", "inproc", "-n", "100", "-d", "2", "--settle", "0",
                "--ping-ms", "500", "--pong-ms", "2000");
        for (String kind : List.of("tether", "baseline")) {
            Map<String, Object> r = part(s.lastResult, kind);
            assertThat(r.get("held")).isEqualTo(100L);
            assertThat(r.get("dropped")).isEqualTo(0L);
            assertThat((long) r.get("pingsInWindow")).isPositive();
            // The event loops are found by thread name and are part of the (here shared) process.
            // The loops' time is exact (schedstat), the process's user + system time two counts of
            // 10 ms ticks, each rounded down: allow two ticks.
            double loops = ((Number) r.get("eventLoopCpuPercent")).doubleValue();
            double twoTicks = 100 * 0.02 / ((Number) r.get("windowSeconds")).doubleValue();
            assertThat(loops).isBetween(0.0, ((Number) r.get("serverCpuPercent")).doubleValue() + twoTicks);
        }
    }

    @Test
    void holdMeasuresASpawnedServerProcess() {
        HoldScenario s = run(new HoldScenario(), "--server", "spawn", "--target", "tether", "--server-jvm", "-Xmx256m",
                "-n", "50", "-d", "1", "--settle", "0");
        Map<String, Object> r = part(s.lastResult, "tether");
        assertThat(r.get("held")).isEqualTo(50L);
        assertThat(r.get("serverIsolated")).isEqualTo(true);
        assertThat((long) r.get("rssKibAfter")).isPositive();
    }

    @Test
    void channelsDeliversAcrossManyChannels() {
        ChannelsScenario s = run(new ChannelsScenario(), "--server", "inproc", "-n", "50", "--subs-per-conn", "4",
                "--subs-per-channel", "2", "-r", "200", "-d", "2", "--warmup", "1");
        assertNothingLost(part(s.lastResult, "tether"));
        assertNothingLost(part(s.lastResult, "baseline"));
    }

    @Test
    void publishIsAnsweredWithAndWithoutKeys() {
        PublishScenario s = run(new PublishScenario(), "--server", "inproc", "-p", "2", "--outstanding", "4",
                "-d", "1", "--warmup", "1");
        Map<String, Object> t = part(s.lastResult, "tether");
        for (String phase : List.of("withoutKeys", "withKeys")) {
            Map<String, Object> r = part(t, phase);
            assertThat(FanoutScenario.num(r.get("publishesPerSec"))).isPositive();
            assertThat(r.get("errorReplies")).isEqualTo(0L);
            assertThat(r.get("duplicateReplies")).isEqualTo(0L);
        }
    }

    @Test
    void stormResumesAndRecoversEveryClientWithNothingLost() {
        StormScenario s = run(new StormScenario(), "--server", "inproc", "-n", "100", "--channels", "5", "-r", "50",
                "--spread-ms", "300", "--settle", "1", "--after", "1", "--deadline", "30");
        Map<String, Object> r = part(s.lastResult, "tether");
        assertThat(r.get("allRecovered")).isEqualTo(true);
        assertThat(r.get("resumed")).isEqualTo(100L);
        assertThat(r.get("notResumed")).isEqualTo(0L);
        // Every client's first reconnect attempt is timed against its schedule, once.
        assertThat(part(r, "reconnectLateMs").get("count")).isEqualTo(100L);
        assertNothingLost(r);
    }

    @Test
    void subscribersSplitOverTwoGeneratorProcessesAreAllCounted() {
        FanoutScenario s = run(new FanoutScenario(), "--server", "inproc", "--target", "tether", "--procs", "2",
                "-n", "40", "-r", "20", "-d", "2", "--warmup", "1");
        Map<String, Object> r = part(s.lastResult, "tether");
        assertNothingLost(r);
        assertThat(r.get("subscriptions")).isEqualTo(40L);
    }
}
