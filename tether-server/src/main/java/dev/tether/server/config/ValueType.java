package dev.tether.server.config;

import static dev.tether.server.config.ConfigException.quote;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * How the text of a value (flag, environment variable or YAML scalar) becomes a Java value. Parsing
 * checks syntax only; ranges and relations between keys are checked by {@link TetherConfig} so that
 * the builder and the loader agree.
 */
public enum ValueType {
    TEXT("<text>") {
        @Override
        Object parse(String text) {
            return nonEmpty(text);
        }
    },
    /** Like TEXT, but never quoted back in a message: it ends up in terminals and logs. */
    SECRET("<secret>") {
        @Override
        Object parse(String text) {
            String s = nonEmpty(text);
            if (!s.equals(s.strip())) {
                // A secret read from a file often ends in a newline: no Authorization header could
                // carry it, and every request would get 401 for no visible reason.
                throw new IllegalArgumentException("starts or ends with whitespace (a newline from a secret file?);"
                        + " remove it");
            }
            return s;
        }
    },
    URL_PATH("<path>") {
        @Override
        Object parse(String text) {
            return nonEmpty(text).strip();
        }
    },
    DIRECTORY("<dir>") {
        @Override
        Object parse(String text) {
            Path dir;
            try {
                dir = Path.of(nonEmpty(text).strip());
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException(quote(text) + " is not a valid path");
            }
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException(quote(text) + " is not a directory");
            }
            return dir;
        }
    },
    INT("<n>") {
        @Override
        Object parse(String text) {
            String s = text.strip();
            if (!s.matches("-?\\d+")) {
                throw new IllegalArgumentException(s.isEmpty() ? "empty value; expected a whole number"
                        : quote(text) + " is not a whole number");
            }
            try {
                return Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(quote(text) + " is too large");
            }
        }
    },
    BYTES("<bytes>") {
        @Override
        Object parse(String text) {
            return SizeParser.parse(text);
        }
    },
    /** Bytes ({@code 512MiB}) or a share of the JVM's maximum heap ({@code 25%}), see {@link MemoryLimit}. */
    MEMORY("<bytes|percent>") {
        @Override
        Object parse(String text) {
            return MemoryLimit.parse(text);
        }
    },
    DURATION("<duration>") {
        @Override
        Object parse(String text) {
            return DurationParser.parse(text);
        }
    },
    BOOLEAN("<true|false>") {
        @Override
        Object parse(String text) {
            // Only the two words: "yes", "1" or "on" each mean something else to some other tool.
            return switch (text.strip()) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException(quote(text) + " is not a boolean; use true or false");
            };
        }
    },
    /** Comma-separated; empty text is the empty list. */
    LIST("<a,b,...>") {
        @Override
        Object parse(String text) {
            return Arrays.stream(text.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
    },
    /** {@code chat=history-size:100,history-age:10m;news=history-size:10}, see {@link NamespaceSpecs}. */
    NAMESPACES("<name=fields>") {
        @Override
        Object parse(String text) {
            return NamespaceSpecs.split(text);
        }
    };

    private final String label;

    ValueType(String label) {
        this.label = label;
    }

    /** The placeholder shown in help, such as {@code <duration>}. */
    public String label() {
        return label;
    }

    /**
     * Parses the text of a value.
     *
     * @throws IllegalArgumentException with a one-line problem, without key or source
     */
    abstract Object parse(String text);

    private static String nonEmpty(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("empty value; leave the key out to use the default");
        }
        return text;
    }

    static List<String> list(Object value) {
        @SuppressWarnings("unchecked")
        List<String> list = (List<String>) value;
        return list;
    }
}
