package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TetherConfigTest {

    @Test
    void defaultsAreThoseOfTheProtocol() {
        TetherConfig c = TetherConfig.defaults();
        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.wsPath()).isEqualTo("/ws");
        assertThat(c.echoPath()).isNull();
        assertThat(c.staticDir()).isNull();
        assertThat(c.pingInterval()).isEqualTo(Duration.ofSeconds(25));
        assertThat(c.pongTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.sessionTtl()).isEqualTo(Duration.ofSeconds(120));
        assertThat(c.history()).isEqualTo(new HistoryPolicy(1000, Duration.ofHours(1)));
        assertThat(c.namespaces()).isEmpty();
        assertThat(c.dedupWindow()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.dedupMaxKeys()).isEqualTo(1_000_000);
        assertThat(c.maxDetachedSessions()).isEqualTo(100_000);
        assertThat(c.ioThreads()).isZero();
        assertThat(c.window()).isEqualTo(1024);
        assertThat(c.maxFrameBytes()).isEqualTo(65536);
        assertThat(c.maxPublicationBytes()).isEqualTo(65536);
        assertThat(c.allowedOrigins()).isEmpty();
        assertThat(c.apiKey()).isNull();
        assertThat(c.shutdownDrain()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.maxConnections()).isEqualTo(100_000);
        assertThat(c.maxSubscriptionsPerConnection()).isEqualTo(1024);
        assertThat(c.maxPublishRate()).isZero();
        assertThat(c.writeBufferHighWaterMark()).isEqualTo(65536);
        assertThat(c.maxPendingWriteBytes()).isEqualTo(1_048_576);
        assertThat(c.tokenSecret()).isNull();
        assertThat(c.allowAnonymous()).isTrue();
        assertThat(c.nodeName()).isEqualTo("n1");
        assertThat(c.nativeTransport()).isTrue();
    }

    @Test
    void builderStartsFromTheDefaultsAndChangesOnlyWhatIsSet() {
        TetherConfig c = TetherConfig.builder().port(0).pingInterval(Duration.ofMillis(200))
                .namespace("chat", new HistoryPolicy(10, Duration.ofMinutes(1))).build();
        assertThat(c.port()).isZero();
        assertThat(c.pingInterval()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.namespaces()).containsOnlyKeys("chat");
        assertThat(c.toBuilder().port(8080).pingInterval(Duration.ofSeconds(25)).namespaces(Map.of()).build())
                .isEqualTo(TetherConfig.defaults());
    }

    @Test
    void toBuilderRebuildsAnEqualConfig() {
        TetherConfig c = TetherConfig.builder().apiKey("k").allowedOrigins(List.of("https://a.example"))
                .namespace("news", new HistoryPolicy(5, Duration.ofSeconds(30))).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }

    static Stream<Arguments> invalidSettings() {
        return Stream.of(
                bad(b -> b.pongTimeout(Duration.ZERO), "pong-timeout: must be positive, got 0s"),
                bad(b -> b.pingInterval(Duration.ofMillis(-200)), "ping-interval: must be positive, got -200ms"),
                bad(b -> b.sessionTtl(null), "session-ttl: must be set"),
                bad(b -> b.port(70000), "port: must be between 0 and 65535, got 70000"),
                bad(b -> b.port(-1), "port: must be between 0 and 65535, got -1"),
                bad(b -> b.host(" "), "host: must not be empty"),
                bad(b -> b.wsPath("ws"), "path: must be a URL path starting with '/' of letters, digits and"
                        + " - . _ ~ ! $ & ' ( ) * + , ; = : @ / only, got \"ws\""),
                bad(b -> b.echoPath("/ws"), "echo-path: must differ from path, both are /ws"),
                bad(b -> b.historySize(0), "history-size: must be between 1 and 1000000, got 0"),
                bad(b -> b.historySize(1_000_001), "history-size: must be between 1 and 1000000, got 1000001"),
                bad(b -> b.historyAge(Duration.ZERO), "history-age: must be positive, got 0s"),
                bad(b -> b.namespace("chat:lobby", new HistoryPolicy(1, Duration.ofSeconds(1))),
                        "namespaces: \"chat:lobby\" is not a namespace name; use 1 to 255 letters, digits"
                                + " or _-.@/=# (no ':')"),
                bad(b -> b.namespace("chat", null), "namespaces: namespace chat has no history policy"),
                bad(b -> b.dedupWindow(Duration.ZERO), "dedup-window: must be positive, got 0s"),
                bad(b -> b.window(0), "window: must be at least 1, got 0"),
                bad(b -> b.maxFrameBytes(0), "max-frame-bytes: must be at least 1, got 0"),
                bad(b -> b.maxPublicationBytes(65537),
                        "max-publication-bytes: must be at most max-frame-bytes (65536), got 65537"),
                bad(b -> b.allowedOrigins(List.of("https://app.example.com/")),
                        "allowed-origins: \"https://app.example.com/\" is not an origin; write"
                                + " scheme://host[:port] without a path, e.g. https://app.example.com"),
                bad(b -> b.allowedOrigins(List.of("https://user@app.example.com")),
                        "allowed-origins: \"https://user@app.example.com\" is not an origin; write"
                                + " scheme://host[:port] without a path, e.g. https://app.example.com"),
                bad(b -> b.allowedOrigins(List.of("https://app.example.com:99999")),
                        "allowed-origins: \"https://app.example.com:99999\" is not an origin; write"
                                + " scheme://host[:port] without a path, e.g. https://app.example.com"),
                bad(b -> b.apiKey(""), "api-key: must not be empty"),
                bad(b -> b.tokenSecret(""), "token-secret: must not be empty"),
                bad(b -> b.shutdownDrain(Duration.ofSeconds(-1)), "shutdown-drain: must not be negative, got -1s"),
                bad(b -> b.maxConnections(0), "max-connections: must be at least 1, got 0"),
                bad(b -> b.maxSubscriptionsPerConnection(0), "max-subscriptions-per-connection: must be at least 1, got 0"),
                bad(b -> b.maxPublishRate(-1), "max-publish-rate: must be at least 0, got -1"),
                bad(b -> b.dedupMaxKeys(0), "dedup-max-keys: must be between 1 and 10000000, got 0"),
                bad(b -> b.maxDetachedSessions(0), "max-detached-sessions: must be at least 1, got 0"),
                bad(b -> b.ioThreads(-1), "io-threads: must be between 0 and 1024, got -1"),
                bad(b -> b.ioThreads(1025), "io-threads: must be between 0 and 1024, got 1025"),
                bad(b -> b.dedupMaxKeys(10_000_001), "dedup-max-keys: must be between 1 and 10000000, got 10000001"),
                bad(b -> b.writeBufferHighWaterMark(0), "write-buffer-high-water-mark: must be at least 1, got 0"),
                bad(b -> b.maxPendingWriteBytes(1000),
                        "max-pending-write-bytes: must be at least write-buffer-high-water-mark (65536), got 1000"),
                bad(b -> b.nodeName("node one"),
                        "node-name: must be 1 to 64 letters, digits, '_', '.' or '-', got \"node one\""));
    }

    private static Arguments bad(UnaryOperator<TetherConfig.Builder> change, String message) {
        return Arguments.of(change, message);
    }

    @ParameterizedTest
    @MethodSource("invalidSettings")
    void buildRefusesInvalidSettingsWithAOneLineMessageNamingTheKey(UnaryOperator<TetherConfig.Builder> change,
            String message) {
        assertThatThrownBy(() -> change.apply(TetherConfig.builder()).build())
                .isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void zeroPortZeroDrainAndUnlimitedRateAreAllowed() {
        TetherConfig c = TetherConfig.builder().port(0).shutdownDrain(Duration.ZERO).maxPublishRate(0).build();
        assertThat(c.port()).isZero();
    }

    @Test
    void historyPolicyValidatesItselfToo() {
        assertThatThrownBy(() -> new HistoryPolicy(1, null)).hasMessage("history-age: must be set");
    }

    @Test
    void listsAndMapsAreUnmodifiableCopies() {
        List<String> origins = new ArrayList<>(List.of("https://a.example"));
        Map<String, HistoryPolicy> namespaces = new HashMap<>(Map.of("chat", new HistoryPolicy(1, Duration.ofSeconds(1))));
        TetherConfig c = TetherConfig.builder().allowedOrigins(origins).namespaces(namespaces).build();
        origins.add("https://b.example");
        namespaces.clear();
        assertThat(c.allowedOrigins()).containsExactly("https://a.example");
        assertThat(c.namespaces()).containsOnlyKeys("chat");
        assertThatThrownBy(() -> c.allowedOrigins().add("x")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> c.namespaces().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void historyForUsesTheNamespaceBeforeTheFirstColonElseTheDefault() {
        HistoryPolicy chat = new HistoryPolicy(10, Duration.ofMinutes(1));
        TetherConfig c = TetherConfig.builder().namespace("chat", chat).build();
        assertThat(c.historyFor("chat:lobby")).isEqualTo(chat);
        assertThat(c.historyFor("chat:lobby:2")).isEqualTo(chat);
        assertThat(c.historyFor("chat")).isEqualTo(c.history());
        assertThat(c.historyFor("news:today")).isEqualTo(c.history());
    }

    @Test
    void toStringHidesSecrets() {
        String text = TetherConfig.builder().apiKey("api-secret-value").tokenSecret("hs256-secret-value").build()
                .toString();
        assertThat(text).doesNotContain("api-secret-value", "hs256-secret-value").contains("apiKey=***")
                .contains("port=8080");
        assertThat(TetherConfig.defaults().toString()).contains("apiKey=null");
    }
}
