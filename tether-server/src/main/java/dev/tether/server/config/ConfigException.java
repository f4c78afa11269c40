package dev.tether.server.config;

/**
 * A configuration value that cannot be used. The message is always one line, shaped
 * {@code key (source): problem}, so the CLI can print it as is and an operator can find the culprit.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final int MAX_QUOTED_CHARS = 60;

    private final String key;
    private final String source;
    private final String problem;

    /** A problem with {@code key} whose source is not known yet (the builder's validation). */
    public ConfigException(String key, String problem) {
        this(key, null, problem);
    }

    /**
     * @param key the kebab-case key, or null when the problem is with a whole source (an unparsable file)
     * @param source where the value came from: {@code flag --port}, {@code env TETHER_PORT}, {@code tether.yml:3}
     */
    public ConfigException(String key, String source, String problem) {
        super(compose(key, source, problem));
        this.key = key;
        this.source = source;
        this.problem = problem;
    }

    /** The kebab-case key at fault, or null. */
    public String key() {
        return key;
    }

    /** Where the value came from, or null when not known. */
    public String source() {
        return source;
    }

    /** The problem alone, without key and source. */
    public String problem() {
        return problem;
    }

    /** The same problem, attributed to the source that supplied the value. */
    public ConfigException from(String source) {
        return new ConfigException(key, source, problem);
    }

    /** A user's value for a message: quoted, control characters escaped, cut short if long. */
    public static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("\"");
        int limit = Math.min(value.length(), MAX_QUOTED_CHARS);
        for (int i = 0; i < limit; i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (value.length() > limit) {
            out.append("...");
        }
        return out.append('"').toString();
    }

    private static String compose(String key, String source, String problem) {
        String where = key == null ? source : source == null ? key : key + " (" + source + ")";
        String message = where == null ? problem : where + ": " + problem;
        // One line even if a parser library's message carried newlines.
        return message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
