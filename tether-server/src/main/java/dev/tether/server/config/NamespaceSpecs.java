package dev.tether.server.config;

import static dev.tether.server.config.ConfigException.quote;

import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The text form of per-namespace history, shared by flags, environment and YAML so that all three
 * accept and reject the same things: {@code chat=history-size:100,history-age:10m;news=history-size:10}.
 * A flag carries one or more namespaces, the environment variable all of them, and YAML one per entry.
 */
final class NamespaceSpecs {
    /** A channel name (PROTOCOL.md section 4) without ':', since the namespace ends at the first ':'. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_\\-.@/=#]{1,255}");
    private static final String FIELDS = "history-size or history-age";
    private static final String EXAMPLE = "chat=history-size:100,history-age:10m";

    private NamespaceSpecs() {
    }

    /**
     * Splits {@code a=fields;b=fields} into name to fields text, checking the structure and the names.
     * The fields are parsed by {@link #resolve}, once the default history is known.
     *
     * @throws IllegalArgumentException with a one-line problem
     */
    static Map<String, String> split(String text) {
        if (text.isBlank() || text.replace(";", "").isBlank()) {
            throw new IllegalArgumentException("empty value; leave the key out for no namespaces, or write e.g. " + EXAMPLE);
        }
        Map<String, String> specs = new LinkedHashMap<>();
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(quote(entry.strip()) + " has no '='; write e.g. " + EXAMPLE);
            }
            String name = entry.substring(0, eq).strip();
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(badName(name));
            }
            if (specs.put(name, entry.substring(eq + 1).strip()) != null) {
                throw new IllegalArgumentException("namespace " + name + " is given twice");
            }
        }
        return specs;
    }

    /**
     * Parses {@code history-size:100,history-age:10m}; a field left out keeps its value in {@code base}.
     *
     * @throws ConfigException keyed {@code namespaces.<name>} or {@code namespaces.<name>.<field>}, without source
     */
    static HistoryPolicy resolve(String name, String fields, HistoryPolicy base) {
        String key = ConfigKey.NAMESPACES.key() + "." + name;
        if (fields.isBlank()) {
            throw new ConfigException(key, "has no fields; write e.g. " + EXAMPLE);
        }
        int size = base.size();
        Duration age = base.maxAge();
        for (String field : fields.split(",")) {
            int colon = field.indexOf(':');
            String fieldName = (colon < 0 ? field : field.substring(0, colon)).strip();
            ConfigKey fieldKey = fieldName.equals(ConfigKey.HISTORY_SIZE.key()) ? ConfigKey.HISTORY_SIZE
                    : fieldName.equals(ConfigKey.HISTORY_AGE.key()) ? ConfigKey.HISTORY_AGE : null;
            if (fieldKey == null) {
                throw new ConfigException(key, "unknown field " + quote(fieldName) + "; use " + FIELDS);
            }
            if (colon < 0) {
                throw new ConfigException(key, quote(field.strip()) + " has no ':'; write e.g. " + fieldName
                        + (fieldKey == ConfigKey.HISTORY_SIZE ? ":100" : ":10m"));
            }
            String value = field.substring(colon + 1);
            try {
                if (fieldKey == ConfigKey.HISTORY_SIZE) {
                    size = (Integer) ValueType.INT.parse(value);
                } else {
                    age = DurationParser.parse(value);
                }
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + "." + fieldName, e.getMessage());
            }
        }
        try {
            return new HistoryPolicy(size, age);
        } catch (ConfigException e) {
            throw new ConfigException(key + "." + e.key(), e.problem());
        }
    }

    /** @throws ConfigException keyed {@code namespaces} when the name could not be a namespace */
    static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ConfigException(ConfigKey.NAMESPACES.key(), badName(name));
        }
    }

    private static String badName(String name) {
        return quote(name) + " is not a namespace name; use 1 to 255 letters, digits or _-.@/=# (no ':')";
    }
}
