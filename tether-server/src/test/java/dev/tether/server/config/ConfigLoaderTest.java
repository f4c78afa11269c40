package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final Map<ConfigKey, List<String>> NO_FLAGS = Map.of();
    private static final Map<String, String> NO_ENV = Map.of();

    @TempDir
    Path dir;

    @Test
    void nothingGivenMeansTheDefaults() {
        assertThat(ConfigLoader.load(NO_FLAGS, null, NO_ENV)).isEqualTo(TetherConfig.defaults());
    }

    @Test
    void flagBeatsEnvironmentBeatsFileBeatsDefault() throws IOException {
        Path file = yaml("ping-interval: 1s\npong-timeout: 2s\nconnect-timeout: 3s\n");
        Map<String, String> env = Map.of("TETHER_PONG_TIMEOUT", "20s", "TETHER_CONNECT_TIMEOUT", "30s");
        Map<ConfigKey, List<String>> flags = Map.of(ConfigKey.CONNECT_TIMEOUT, List.of("300s"));

        TetherConfig c = ConfigLoader.load(flags, file, env);

        assertThat(c.pingInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.pongTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(c.sessionTtl()).isEqualTo(Duration.ofSeconds(120));
    }

    @Test
    void everyKeyIsReadFromItsUpperSnakeEnvironmentVariable() {
        Map<String, String> env = Map.of("TETHER_MAX_FRAME_BYTES", "128KiB", "TETHER_PATH", "/socket",
                "TETHER_ALLOWED_ORIGINS", "https://a.example, https://b.example:8443",
                "TETHER_MAX_SUBSCRIPTIONS_PER_CONNECTION", "7", "TETHER_ALLOW_ANONYMOUS", "false",
                "TETHER_NODE_NAME", "n2", "TETHER_UNKNOWN_THING", "ignored", "PATH", "/usr/bin");

        TetherConfig c = ConfigLoader.load(NO_FLAGS, null, env);

        assertThat(c.maxFrameBytes()).isEqualTo(131072);
        assertThat(c.wsPath()).isEqualTo("/socket");
        assertThat(c.allowedOrigins()).containsExactly("https://a.example", "https://b.example:8443");
        assertThat(c.maxSubscriptionsPerConnection()).isEqualTo(7);
        assertThat(c.allowAnonymous()).isFalse();
        assertThat(c.nodeName()).isEqualTo("n2");
    }

    @Test
    void theFileIsNamedByTetherConfigWhenNoFlagNamesOne() throws IOException {
        Path fromEnv = yaml("port: 9001\n");
        Path fromFlag = Files.writeString(dir.resolve("flag.yml"), "port: 9002\n");
        Map<String, String> env = Map.of("TETHER_CONFIG", fromEnv.toString());

        assertThat(ConfigLoader.load(NO_FLAGS, null, env).port()).isEqualTo(9001);
        assertThat(ConfigLoader.load(NO_FLAGS, fromFlag, env).port()).isEqualTo(9002);
    }

    @Test
    void aFileCanSetEveryKindOfValue() throws IOException {
        Path staticDir = Files.createDirectory(dir.resolve("www"));
        Path file = yaml("""
                # a comment
                host: 0.0.0.0
                port: 0
                echo-path: /echo
                static-dir: %s
                history-size: 50
                history-age: 1m30s
                history-memory: 25%%
                max-publication-bytes: 1KiB
                allowed-origins: ["https://a.example", "*"]
                api-key: k-123
                native-transport: false
                """.formatted(staticDir));

        TetherConfig c = ConfigLoader.load(NO_FLAGS, file, NO_ENV);

        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isZero();
        assertThat(c.echoPath()).isEqualTo("/echo");
        assertThat(c.staticDir()).isEqualTo(staticDir);
        assertThat(c.history()).isEqualTo(new HistoryPolicy(50, Duration.ofSeconds(90)));
        assertThat(c.historyMemory()).isEqualTo(new MemoryLimit(0, 25));
        assertThat(c.maxPublicationBytes()).isEqualTo(1024);
        assertThat(c.allowedOrigins()).containsExactly("https://a.example", "*");
        assertThat(c.apiKey()).isEqualTo("k-123");
        assertThat(c.nativeTransport()).isFalse();
    }

    @Test
    void anEmptyFileMeansTheDefaults() throws IOException {
        assertThat(ConfigLoader.load(NO_FLAGS, yaml("# nothing yet\n"), NO_ENV)).isEqualTo(TetherConfig.defaults());
    }

    @Test
    void aBadEnvironmentValueNamesTheKeyAndTheVariable() {
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_PING_INTERVAL", "25")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("ping-interval (env TETHER_PING_INTERVAL): \"25\" needs a unit, e.g. 25s or 200ms");
    }

    @Test
    void aBadFlagValueNamesTheKeyAndTheFlag() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.MAX_FRAME_BYTES, List.of("64KB")), null, NO_ENV))
                .hasMessage("max-frame-bytes (flag --max-frame-bytes): \"64KB\" is not a size; use a number of"
                        + " bytes or KiB, MiB, GiB, e.g. 65536 or 64KiB");
    }

    @Test
    void aBadFileValueNamesTheKeyTheFileAndTheLine() throws IOException {
        Path file = yaml("host: 0.0.0.0\nnative-transport: yes\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV))
                .hasMessage("native-transport (" + file + ":2): \"yes\" is not a boolean; use true or false");
    }

    @Test
    void aValueOutOfRangeIsBlamedOnTheSourceThatGaveIt() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_PONG_TIMEOUT", "0s")))
                .hasMessage("pong-timeout (env TETHER_PONG_TIMEOUT): must be positive, got 0s");
        Path file = yaml("port: 1\nhistory-size: 0\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV))
                .hasMessage("history-size (" + file + ":2): must be between 1 and 1000000, got 0");
    }

    @Test
    void aConflictWithADefaultSaysSo() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.MAX_FRAME_BYTES, List.of("1000")), null, NO_ENV))
                .hasMessage("max-publication-bytes (default): must be at most max-frame-bytes (1000), got 65536");
    }

    @Test
    void anUnknownFileKeyIsRefusedWithTheNearestKey() throws IOException {
        Path file = yaml("port: 8080\nping-intervall: 25s\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV))
                .hasMessage("ping-intervall (" + file + ":2): unknown key; did you mean ping-interval?");
        Path camel = yaml("maxFrameBytes: 1KiB\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, camel, NO_ENV))
                .hasMessage("maxFrameBytes (" + camel + ":1): unknown key; did you mean max-frame-bytes?");
        Path far = yaml("colour: blue\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, far, NO_ENV))
                .hasMessage("colour (" + far + ":1): unknown key; see tether serve --help for the keys");
    }

    @Test
    void aKeyGivenTwiceInTheFileIsRefused() throws IOException {
        Path file = yaml("port: 1\nhost: ::1\nport: 2\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV))
                .hasMessage("port (" + file + ":3): given twice, first on line 1");
    }

    @Test
    void yamlThatDoesNotParseIsRefusedWithItsLine() throws IOException {
        Path file = yaml("port: 9000\n  host: indented\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV))
                .hasMessage(file + ":2: not valid YAML: mapping values are not allowed here");
        Path star = yaml("allowed-origins: *\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, star, NO_ENV))
                .hasMessageStartingWith(star + ":1: not valid YAML: ")
                .hasMessageEndingWith("a value starting with * must be quoted, e.g. \"*\"");
        Path list = yaml("- port: 1\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, list, NO_ENV))
                .hasMessage(list + ":1: expected key: value lines at the top level");
    }

    @Test
    void aMissingFileIsBlamedOnWhoeverNamedIt() {
        Path missing = dir.resolve("missing.yml");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, missing, NO_ENV))
                .hasMessage("config (flag --config): \"" + missing + "\" does not exist");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_CONFIG", missing.toString())))
                .hasMessage("config (env TETHER_CONFIG): \"" + missing + "\" does not exist");
    }

    @Test
    void aMissingStaticDirIsRefused() {
        String missing = dir.resolve("nope").toString();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.STATIC_DIR, List.of(missing)), null, NO_ENV))
                .hasMessage("static-dir (flag --static-dir): \"" + missing + "\" is not a directory");
    }

    @Test
    void namespacesComeFromTheFile() throws IOException {
        Path file = yaml("""
                history-age: 2h
                namespaces:
                  chat:
                    history-size: 100
                    history-age: 10m
                  news: {history-size: 10}
                """);

        TetherConfig c = ConfigLoader.load(NO_FLAGS, file, NO_ENV);

        assertThat(c.namespaces()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "chat", new HistoryPolicy(100, Duration.ofMinutes(10)),
                "news", new HistoryPolicy(10, Duration.ofHours(2))));
    }

    /** configuration.md: an empty value is an error, for namespaces too. */
    @Test
    void anEmptyNamespacesValueIsRefusedFromEverySource() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_NAMESPACES", " ; ")))
                .hasMessageStartingWith("namespaces (env TETHER_NAMESPACES): empty value");
        Path file = yaml("""
                namespaces: ~
                """);
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV)).hasMessageContaining("namespaces")
                .hasMessageContaining("empty value");
    }

    @Test
    void aPathWithCharactersNoClientCanNameIsRefused() {
        for (String bad : new String[] {"/w#s", "/w%73", "/wé", "/w s", "/w?x"}) {
            assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.PATH, List.of(bad)), null, NO_ENV))
                    .as(bad).hasMessageStartingWith("path (flag --path): must be a URL path starting with '/'");
        }
        assertThat(ConfigLoader.load(Map.of(ConfigKey.PATH, List.of("/rt/v1.ws")), null, NO_ENV).wsPath()).isEqualTo("/rt/v1.ws");
    }

    @Test
    void namespacesComeFromTheEnvironment() {
        Map<String, String> env = Map.of("TETHER_NAMESPACES", "chat=history-size:100,history-age:10m;news=history-size:10",
                "TETHER_HISTORY_SIZE", "500");

        TetherConfig c = ConfigLoader.load(NO_FLAGS, null, env);

        assertThat(c.namespaces()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "chat", new HistoryPolicy(100, Duration.ofMinutes(10)),
                "news", new HistoryPolicy(10, Duration.ofHours(1))));
        assertThat(c.historyFor("events:x")).isEqualTo(new HistoryPolicy(500, Duration.ofHours(1)));
    }

    @Test
    void namespacesComeFromRepeatedFlags() {
        Map<ConfigKey, List<String>> flags = Map.of(ConfigKey.NAMESPACES,
                List.of("chat=history-size:100,history-age:10m", "news=history-age:30s"));

        TetherConfig c = ConfigLoader.load(flags, null, NO_ENV);

        assertThat(c.namespaces()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "chat", new HistoryPolicy(100, Duration.ofMinutes(10)),
                "news", new HistoryPolicy(1000, Duration.ofSeconds(30))));
    }

    @Test
    void aHigherSourceReplacesANamespaceWholeAndKeepsTheOthers() throws IOException {
        Path file = yaml("namespaces:\n  chat: {history-size: 100, history-age: 10m}\n  news: {history-size: 10}\n");
        Map<ConfigKey, List<String>> flags = Map.of(ConfigKey.NAMESPACES, List.of("chat=history-size:5"));

        TetherConfig c = ConfigLoader.load(flags, file, NO_ENV);

        assertThat(c.namespaces()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "chat", new HistoryPolicy(5, Duration.ofHours(1)),
                "news", new HistoryPolicy(10, Duration.ofHours(1))));
    }

    @Test
    void badNamespacesNameTheNamespaceFieldAndSource() throws IOException {
        Path file = yaml("namespaces:\n  chat:\n    history-sise: 100\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, file, NO_ENV))
                .hasMessage("namespaces.chat (" + file + ":2): unknown field \"history-sise\"; use history-size"
                        + " or history-age");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_NAMESPACES", "chat=history-age:10")))
                .hasMessage("namespaces.chat.history-age (env TETHER_NAMESPACES): \"10\" needs a unit, e.g. 25s or 200ms");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.NAMESPACES, List.of("chat=history-size:0")),
                null, NO_ENV))
                .hasMessage("namespaces.chat.history-size (flag --namespace): must be between 1 and 1000000, got 0");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.NAMESPACES, List.of("chat")), null, NO_ENV))
                .hasMessage("namespaces (flag --namespace): \"chat\" has no '='; write e.g."
                        + " chat=history-size:100,history-age:10m");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.NAMESPACES, List.of("chat=")), null, NO_ENV))
                .hasMessage("namespaces.chat (flag --namespace): has no fields; write e.g."
                        + " chat=history-size:100,history-age:10m");
        assertThatThrownBy(() -> ConfigLoader.load(
                Map.of(ConfigKey.NAMESPACES, List.of("chat=history-size:1", "chat=history-size:2")), null, NO_ENV))
                .hasMessage("namespaces (flag --namespace): namespace chat is given twice");
        Path colon = yaml("namespaces:\n  \"a:b\": {history-size: 1}\n");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, colon, NO_ENV))
                .hasMessage("namespaces (" + colon + ":2): \"a:b\" is not a namespace name; use 1 to 255"
                        + " letters, digits or _-.@/=# (no ':')");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_NAMESPACES", "a:b=history-size:1")))
                .hasMessage("namespaces (env TETHER_NAMESPACES): \"a:b\" is not a namespace name; use 1 to 255"
                        + " letters, digits or _-.@/=# (no ':')");
    }

    @Test
    void aLaterFlagOfTheSameKeyWins() {
        assertThat(ConfigLoader.load(Map.of(ConfigKey.PORT, List.of("1", "2")), null, NO_ENV).port()).isEqualTo(2);
    }

    @Test
    void emptyValuesAreRefusedRatherThanSilentlyMeaningUnset() {
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_API_KEY", "")))
                .hasMessage("api-key (env TETHER_API_KEY): empty value; leave the key out to use the default");
        assertThatThrownBy(() -> ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_API_KEY", "k-123\n")))
                .hasMessage("api-key (env TETHER_API_KEY): starts or ends with whitespace (a newline from a secret file?);"
                        + " remove it");
        assertThat(ConfigLoader.load(NO_FLAGS, null, Map.of("TETHER_ALLOWED_ORIGINS", "")).allowedOrigins()).isEmpty();
    }

    private Path yaml(String text) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "tether", ".yml"), text);
    }
}
