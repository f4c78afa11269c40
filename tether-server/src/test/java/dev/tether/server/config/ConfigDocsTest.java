package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigDocsTest {
    private static final String BEGIN = "<!-- BEGIN GENERATED KEY TABLE: ConfigDocs.markdownTable() -->\n";
    private static final String END = "<!-- END GENERATED KEY TABLE -->";

    @Test
    void docsConfigurationMdHoldsTheKeyTableAsTheCodeDefinesIt() throws IOException {
        String docs = Files.readString(docsFile());
        assertThat(docs).contains(BEGIN).contains(END);
        String table = docs.substring(docs.indexOf(BEGIN) + BEGIN.length(), docs.indexOf(END));
        assertThat(table)
                .as("docs/configuration.md is out of date; put this between the markers:%n%s", ConfigDocs.markdownTable())
                .isEqualTo(ConfigDocs.markdownTable());
    }

    @Test
    void theTableHasARowForEveryKey() {
        String table = ConfigDocs.markdownTable();
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(table).contains("| `" + key.key() + "` | `" + key.flag() + " ", "`" + key.envName() + "`");
        }
    }

    @Test
    void theExampleFileInTheDocsLoadsAndMentionsEveryKey(@TempDir Path dir) throws IOException {
        String docs = Files.readString(docsFile());
        int section = docs.indexOf("## A full tether.yml");
        int start = docs.indexOf("```yaml\n", section) + "```yaml\n".length();
        String example = docs.substring(start, docs.indexOf("```", start));
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(example).contains(key.key() + ":");
        }

        TetherConfig c = ConfigLoader.load(Map.of(), Files.writeString(dir.resolve("tether.yml"), example), Map.of());

        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.namespaces()).containsOnlyKeys("chat", "news");
    }

    /** Surefire runs in the module directory; an IDE may run in the project root. */
    private static Path docsFile() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("docs/configuration.md");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("docs/configuration.md not found above " + Path.of("").toAbsolutePath());
    }
}
