package dev.tether.server.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values one source (flags, environment or file) gives, still as text, each with where it came
 * from so that a bad value can be reported against its source.
 *
 * @param values every key but namespaces
 * @param namespaces namespace name to its fields text ({@code history-size:100,history-age:10m})
 */
record RawConfig(Map<ConfigKey, Value> values, Map<String, Value> namespaces) {
    static final RawConfig EMPTY = new RawConfig(Map.of(), Map.of());

    /** @param origin {@code flag --port}, {@code env TETHER_PORT} or {@code tether.yml:3} */
    record Value(String text, String origin) {
    }

    RawConfig {
        values = Map.copyOf(values);
        namespaces = Map.copyOf(namespaces);
    }

    /**
     * This source with {@code higher}'s values on top. Namespaces are overridden one by one: a flag
     * for chat replaces the file's chat and leaves its news alone.
     */
    RawConfig overriddenBy(RawConfig higher) {
        Map<ConfigKey, Value> v = new LinkedHashMap<>(values);
        v.putAll(higher.values);
        Map<String, Value> n = new LinkedHashMap<>(namespaces);
        n.putAll(higher.namespaces);
        return new RawConfig(v, n);
    }
}
