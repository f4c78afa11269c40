package dev.tether.bench.scenario;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** A scenario's result: one JSON line for machines and a few lines for people. */
public final class Report {
    static final ObjectMapper JSON = new ObjectMapper();
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final List<String> summary = new ArrayList<>();

    Report(String scenario, String label) {
        fields.put("scenario", scenario);
        if (label != null && !label.isEmpty()) {
            fields.put("label", label);
        }
        fields.put("time", java.time.Instant.now().toString());
    }

    Report put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    Object get(String key) {
        return fields.get(key);
    }

    Report line(String format, Object... args) {
        summary.add(String.format(format, args));
        return this;
    }

    Map<String, Object> fields() {
        return fields;
    }

    /** Prints the summary and the JSON line to {@code out}, and appends the line to {@code file} if given. */
    String print(PrintStream out, Path file) {
        String json;
        try {
            json = JSON.writeValueAsString(fields);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String s : summary) {
            out.println("# " + s);
        }
        out.println(json);
        out.flush();
        if (file != null) {
            try {
                if (file.getParent() != null) {
                    Files.createDirectories(file.getParent());
                }
                Files.writeString(file, json + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return json;
    }

    /** Percentiles of a µs histogram, in ms. */
    static Map<String, Object> latencyMillis(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        m.put("p50", ms(h.getValueAtPercentile(50)));
        m.put("p90", ms(h.getValueAtPercentile(90)));
        m.put("p99", ms(h.getValueAtPercentile(99)));
        m.put("p999", ms(h.getValueAtPercentile(99.9)));
        m.put("max", ms(h.getMaxValue()));
        return m;
    }

    static String latencyText(Map<String, Object> l) {
        return String.format("p50 %s ms, p90 %s, p99 %s, p99.9 %s, max %s", l.get("p50"), l.get("p90"), l.get("p99"),
                l.get("p999"), l.get("max"));
    }

    static double ms(long micros) {
        return round(micros / 1000.0, 3);
    }

    static double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return -1;
        }
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    static double ratio(double a, double b) {
        return b == 0 ? -1 : round(a / b, 3);
    }
}
