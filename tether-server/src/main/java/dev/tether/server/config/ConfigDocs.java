package dev.tether.server.config;

/** The key table of docs/configuration.md, rendered from {@link ConfigKey} so the docs cannot drift. */
public final class ConfigDocs {
    private ConfigDocs() {
    }

    /** A Markdown table: key, flag, environment variable, default, meaning. */
    public static String markdownTable() {
        StringBuilder out = new StringBuilder()
                .append("| YAML key | Flag | Environment variable | Default | Meaning |\n")
                .append("|---|---|---|---|---|\n");
        for (ConfigKey key : ConfigKey.values()) {
            String defaultCell = key.defaultText() == null || key.defaultText().isEmpty()
                    ? "unset" : "`" + key.defaultText() + "`";
            out.append(row("`" + key.key() + "`", "`" + key.flag() + " " + key.type().label() + "`",
                    "`" + key.envName() + "`", defaultCell, key.description()));
        }
        return out.toString();
    }

    private static String row(String... cells) {
        StringBuilder row = new StringBuilder("|");
        for (String cell : cells) {
            // GitHub tables split on '|' even inside code spans, as in <true|false>.
            row.append(' ').append(cell.replace("|", "\\|")).append(" |");
        }
        return row.append('\n').toString();
    }
}
