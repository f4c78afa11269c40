package dev.tether.server.e2e;

import static dev.tether.server.e2e.Harness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsTestClient;
import dev.tether.testkit.leak.NoLeaks;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The plain HTTP endpoints of PROTOCOL.md section 13, through a real HTTP client. */
@ExtendWith(NoLeaks.class)
class HttpApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Harness h;
    private TetherServer server;

    @BeforeEach
    void start() throws Exception {
        h = new Harness();
        server = h.server(b -> b.maxFrameBytes(4096).maxPublicationBytes(1024));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void healthzAndReadyzAnswer200WhileRunning() {
        HttpResponse<String> health = RawHttp.get(server, "/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health).get("status").asText()).isEqualTo("ok");
        HttpResponse<String> ready = RawHttp.get(server, "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(json(ready).get("ready").asBoolean()).isTrue();
    }

    @Test
    void metricsArePrometheusTextWithEveryTetherSeries() {
        HttpResponse<String> r = RawHttp.get(server, "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(r.body()).contains("# TYPE tether_connections gauge", "# TYPE tether_publications_total counter");
        assertThat(samples(r.body())).containsKeys("tether_connections", "tether_sessions", "tether_subscriptions",
                "tether_channels", "tether_publications_total", "tether_deliveries_total", "tether_acks_total",
                "tether_resumes_total", "tether_recoveries_total{result=\"ok\"}", "tether_recoveries_total{result=\"failed\"}",
                "tether_disconnects_total{code=\"4500\"}", "tether_slow_consumer_events_total", "tether_bytes_in_total",
                "tether_bytes_out_total");
    }

    @Test
    void metricsCountersMoveAfterRealTraffic() {
        Map<String, Double> before = samples(RawHttp.get(server, "/metrics").body());
        WsTestClient sub = h.connected(server);
        h.ok(sub, "subscribe", "\"channel\":\"m\"");
        WsTestClient pub = h.connected(server);
        for (int i = 1; i <= 3; i++) {
            h.ok(pub, "publish", "\"channel\":\"m\",\"data\":" + i);
        }
        for (int i = 1; i <= 3; i++) {
            h.nextPub(sub);
        }
        sub.send("{\"op\":\"ack\",\"channel\":\"m\",\"offset\":3}");
        WsTestClient leaving = h.raw(server);
        String session = h.connect(leaving, null).get("session").asText();
        h.ok(leaving, "subscribe", "\"channel\":\"r\"");
        leaving.abort();
        WsTestClient back = h.raw(server);
        assertThat(h.connect(back, session).get("resumed").asBoolean()).isTrue();
        WsTestClient bad = h.connected(server);
        bad.send("{");
        assertThat(bad.closeCode()).succeedsWithin(WAIT).isEqualTo(4500);

        await().atMost(WAIT).untilAsserted(() -> {
            Map<String, Double> after = samples(RawHttp.get(server, "/metrics").body());
            assertThat(after.get("tether_publications_total") - before.get("tether_publications_total")).isEqualTo(3);
            assertThat(after.get("tether_deliveries_total") - before.get("tether_deliveries_total")).isEqualTo(3);
            assertThat(after.get("tether_acks_total") - before.get("tether_acks_total")).isEqualTo(1);
            assertThat(after.get("tether_resumes_total") - before.get("tether_resumes_total")).isEqualTo(1);
            assertThat(after.get("tether_recoveries_total{result=\"ok\"}")).isEqualTo(1);
            assertThat(after.get("tether_disconnects_total{code=\"4500\"}")).isEqualTo(1);
            assertThat(after.get("tether_slow_consumer_events_total")).isZero();
            assertThat(after.get("tether_bytes_in_total")).isGreaterThan(before.get("tether_bytes_in_total") + 100);
            assertThat(after.get("tether_bytes_out_total")).isGreaterThan(before.get("tether_bytes_out_total") + 100);
            assertThat(after.get("tether_connections")).as("sub, pub, back").isEqualTo(3);
            assertThat(after.get("tether_sessions")).isEqualTo(3);
            assertThat(after.get("tether_subscriptions")).as("m by sub, r restored to back").isEqualTo(2);
            assertThat(after.get("tether_channels")).isEqualTo(2);
        });
    }

    @Test
    void apiPublishReachesAWebSocketSubscriberWithoutFrom() {
        WsTestClient sub = h.connected(server);
        String epoch = h.ok(sub, "subscribe", "\"channel\":\"news\"").get("epoch").asText();
        HttpResponse<String> r = RawHttp.post(server, "/api/publish", "{\"channel\":\"news\",\"data\":{\"a\":1,\"b\":[true,null]}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode result = json(r);
        assertThat(result.get("offset").asLong()).isEqualTo(1);
        assertThat(result.get("epoch").asText()).isEqualTo(epoch);
        assertThat(result.get("duplicate").asBoolean()).isFalse();
        JsonNode p = h.nextPub(sub);
        assertThat(p.get("offset").asLong()).isEqualTo(1);
        assertThat(p.get("data")).isEqualTo(parse("{\"a\":1,\"b\":[true,null]}"));
        assertThat(p.has("from")).isFalse();
    }

    @Test
    void apiPublishIsIdempotentByKey() {
        WsTestClient sub = h.connected(server);
        h.ok(sub, "subscribe", "\"channel\":\"once\"");
        String body = "{\"channel\":\"once\",\"data\":\"x\",\"key\":\"k-1\"}";
        JsonNode first = json(RawHttp.post(server, "/api/publish", body));
        JsonNode again = json(RawHttp.post(server, "/api/publish", body));
        assertThat(first.get("duplicate").asBoolean()).isFalse();
        assertThat(again.get("duplicate").asBoolean()).isTrue();
        assertThat(again.get("offset").asLong()).isEqualTo(first.get("offset").asLong());
        // the same key over WebSocket is the same publication too
        assertThat(h.ok(sub, "publish", "\"channel\":\"once\",\"data\":\"x\",\"key\":\"k-1\"").get("duplicate").asBoolean()).isTrue();
        assertThat(json(RawHttp.post(server, "/api/publish", "{\"channel\":\"once\",\"data\":\"y\"}")).get("offset").asLong()).isEqualTo(2);
        assertThat(h.nextPub(sub).get("data").asText()).isEqualTo("x");
        assertThat(h.nextPub(sub).get("data").asText()).isEqualTo("y");
        assertThat(json(RawHttp.get(server, "/api/history?channel=once")).get("publications")).hasSize(2);
    }

    @Test
    void newKeysBeyondTheChannelsLimitAreRefusedWithRetryAfterAndNothingStored() throws Exception {
        TetherServer limited = h.server(b -> b.dedupMaxKeys(2));
        WsTestClient c = h.connected(limited);
        h.ok(c, "subscribe", "\"channel\":\"keys\"");
        assertThat(h.ok(c, "publish", "\"channel\":\"keys\",\"data\":1,\"key\":\"k-1\"").get("offset").asLong()).isEqualTo(1);
        assertThat(json(RawHttp.post(limited, "/api/publish", "{\"channel\":\"keys\",\"data\":2,\"key\":\"k-2\"}"))
                .get("offset").asLong()).isEqualTo(2);

        // A third key: refused over HTTP (429 + Retry-After) and over WebSocket (107 + retryAfter).
        HttpResponse<String> refused = RawHttp.post(limited, "/api/publish", "{\"channel\":\"keys\",\"data\":3,\"key\":\"k-3\"}");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("retry-after")).hasValueSatisfying(
                v -> assertThat(Long.parseLong(v)).isBetween(1L, 300L));
        assertThat(json(refused).get("error").get("message").asText()).contains("dedup-max-keys");
        JsonNode error = h.error(c, "publish", "\"channel\":\"keys\",\"data\":3,\"key\":\"k-3\"");
        assertThat(error.get("code").asInt()).isEqualTo(107);
        assertThat(error.get("retryAfter").asLong()).isBetween(1L, 300_000L);

        // Remembered keys are still answered as duplicates, and publishing without a key goes on.
        assertThat(h.ok(c, "publish", "\"channel\":\"keys\",\"data\":1,\"key\":\"k-1\"").get("duplicate").asBoolean()).isTrue();
        assertThat(h.ok(c, "publish", "\"channel\":\"keys\",\"data\":4").get("offset").asLong()).isEqualTo(3);
        // Another channel has its own limit.
        assertThat(h.ok(c, "publish", "\"channel\":\"other\",\"data\":5,\"key\":\"k-3\"").get("duplicate").asBoolean()).isFalse();

        assertThat(h.nextPub(c).get("data").asInt()).isEqualTo(1);
        assertThat(h.nextPub(c).get("data").asInt()).isEqualTo(2);
        assertThat(h.nextPub(c).get("data").asInt()).as("the refused publishes were never stored").isEqualTo(4);
        Map<String, Double> m = samples(RawHttp.get(limited, "/metrics").body());
        assertThat(m.get("tether_publish_key_limit_refusals_total")).isEqualTo(2);
        assertThat(m.get("tether_publish_keys")).isEqualTo(3);
    }

    static Stream<Arguments> badPublishBodies() {
        return Stream.of(
                Arguments.of("{not json", 400, "body is not valid JSON"),
                Arguments.of("{\"channel\":\"c\",\"data\":1} trailing", 400, "body is not valid JSON"),
                Arguments.of("", 400, "body must be a JSON object"),
                Arguments.of("[{\"channel\":\"c\",\"data\":1}]", 400, "body must be a JSON object"),
                Arguments.of("{\"data\":1}", 400, "field 'channel' is missing"),
                Arguments.of("{\"channel\":7,\"data\":1}", 400, "field 'channel' must be a string"),
                Arguments.of("{\"channel\":\"bad name\",\"data\":1}", 400, "field 'channel' is not a valid channel name"),
                Arguments.of("{\"channel\":\"c\"}", 400, "field 'data' is missing"),
                Arguments.of("{\"channel\":\"c\",\"data\":1,\"key\":5}", 400, "field 'key' must be a string"),
                Arguments.of("{\"channel\":\"c\",\"data\":\"" + "d".repeat(1100) + "\"}", 413, "data is 1102 bytes, more than 1024"));
    }

    @ParameterizedTest(name = "{1} {2}")
    @MethodSource("badPublishBodies")
    void apiPublishRejectsABadBodyWithAPreciseJsonErrorAndPublishesNothing(String body, int status, String message) {
        HttpResponse<String> r = RawHttp.post(server, "/api/publish", body);
        assertError(r, status, message);
        assertThat(json(RawHttp.get(server, "/api/history?channel=c")).get("publications")).isEmpty();
    }

    /**
     * Data is stored as the bytes it arrived in and pushed in text frames, so a body that is not
     * UTF-8 is refused whole: a lone surrogate, an overlong form, a code point past U+10FFFF, a stray
     * byte, at the top of data or nested in it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ED A0 80", "C0 80", "F4 90 80 80", "FF"})
    void apiPublishRefusesABodyThatIsNotUtf8(String hex) {
        byte[] bad = java.util.HexFormat.ofDelimiter(" ").parseHex(hex);
        for (String[] around : new String[][] {{"{\"channel\":\"c\",\"data\":\"", "\"}"},
                {"{\"channel\":\"c\",\"data\":{\"t\":[\"", "\"]}}"}}) {
            byte[] head = around[0].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] tail = around[1].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] body = new byte[head.length + bad.length + tail.length];
            System.arraycopy(head, 0, body, 0, head.length);
            System.arraycopy(bad, 0, body, head.length, bad.length);
            System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
            assertError(RawHttp.post(server, "/api/publish", body), 400, "body is not valid UTF-8");
        }
        assertThat(json(RawHttp.get(server, "/api/history?channel=c")).get("publications")).isEmpty();
    }

    @Test
    void apiPublishBodyBeyondTheRequestLimitGets413WithAJsonError() {
        HttpResponse<String> r = RawHttp.post(server, "/api/publish", "{\"channel\":\"c\",\"data\":\"" + "d".repeat(10_000) + "\"}");
        assertError(r, 413, "larger than");
        assertThat(RawHttp.get(server, "/healthz").statusCode()).isEqualTo(200);
    }

    /** Pipelined requests written at once, up to Netty's pipeline depth: every one answered, in order. */
    @Test
    void aPipelineIsAnsweredWholeAndInOrder() throws Exception {
        int n = 100;
        String answer = RawHttp.exchange(server, pipeline(n));
        assertThat(answer.split("HTTP/1.1 200 OK", -1)).hasSize(n + 1);
        assertThat(answer).endsWith("\"status\":\"ok\"}");
    }

    /**
     * A client that pipelines requests without reading the answers cannot make the server hold an
     * unbounded number of responses: past 128 unanswered (Netty's pipeline depth) the connection is
     * closed, and the server goes on serving others.
     */
    @Test
    void aConnectionWithTooManyUnansweredRequestsIsClosed() throws Exception {
        int n = 5000;
        String answer = RawHttp.exchange(server, pipeline(n));
        assertThat(answer.split("HTTP/1.1 200 OK", -1).length - 1).isLessThan(n);
        assertThat(RawHttp.get(server, "/healthz").statusCode()).isEqualTo(200);
    }

    /**
     * A refusal the transport writes itself (426 here, and the 413 of a body over the limit) still
     * comes after the answers owed to earlier pipelined requests, a publish answered asynchronously
     * among them.
     */
    @Test
    void pipelinedRefusalsComeAfterTheAnswersBeforeThem() throws Exception {
        String body = "{\"channel\":\"order\",\"data\":\"p\"}";
        String answer = RawHttp.exchange(server, "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
        int publish = answer.indexOf("\"duplicate\":false");
        int health = answer.indexOf("\"status\":\"ok\"");
        int refusal = answer.indexOf("HTTP/1.1 426");
        assertThat(publish).as(answer).isPositive();
        assertThat(health).as(answer).isGreaterThan(publish);
        assertThat(refusal).as(answer).isGreaterThan(health);
    }

    /**
     * A request pipelined behind a refusal that closes the connection is never run: its client
     * gets no answer, so a publish stored anyway would be retried and stored twice.
     */
    @Test
    void requestsBehindAClosingRefusalAreNotRun() throws Exception {
        String a = "{\"channel\":\"behind\",\"data\":\"a\"}";
        String b = "{\"channel\":\"behind\",\"data\":\"b\"}";
        String answer = RawHttp.exchange(server, "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + a.length() + "\r\n\r\n" + a
                + "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + b.length() + "\r\n\r\n" + b);
        assertThat(answer).contains("HTTP/1.1 426");
        JsonNode page = json(RawHttp.get(server, "/api/history?channel=behind"));
        assertThat(page.get("publications")).as(page.toString()).hasSize(1);
        assertThat(page.get("publications").get(0).get("data").asText()).isEqualTo("a");
    }

    /** {@code n} pipelined GETs, the last one closing the connection. */
    private static String pipeline(int n) {
        StringBuilder requests = new StringBuilder();
        for (int i = 1; i < n; i++) {
            requests.append("GET /healthz?i=").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        return requests.append("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").toString();
    }

    /** Another site's page can send a simple POST without a preflight: /api/* applies the origin rule. */
    @Test
    void apiRequestsFromAnotherSitesPageAreRefused() {
        HttpResponse<String> foreign = RawHttp.post(server, "/api/publish", "{\"channel\":\"o\",\"data\":1}",
                "Origin", "https://evil.example");
        assertError(foreign, 403, "origin https://evil.example is not allowed");
        assertError(RawHttp.get(server, "/api/history?channel=o", "Origin", "https://evil.example"), 403, "not allowed");
        HttpResponse<String> own = RawHttp.post(server, "/api/publish", "{\"channel\":\"o\",\"data\":1}",
                "Origin", "http://127.0.0.1:" + server.port());
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(json(RawHttp.get(server, "/api/history?channel=o")).get("publications")).hasSize(1);
    }

    @Test
    void historySinceTheLargestOffsetIsAnEmptyPageWithoutAGap() {
        HttpResponse<String> posted = RawHttp.post(server, "/api/publish", "{\"channel\":\"top\",\"data\":1}");
        String epoch = json(posted).get("epoch").asText();
        JsonNode page = json(RawHttp.get(server, "/api/history?channel=top&since=" + Long.MAX_VALUE + "&epoch=" + epoch));
        assertThat(page.get("publications")).isEmpty();
        assertThat(page.has("gap")).as(page.toString()).isFalse();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        String body = "{\"channel\":\"pipe\",\"data\":\"p\"}";
        String answer = RawHttp.exchange(server, "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /api/history?channel=pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        int publish = answer.indexOf("\"duplicate\":false");
        int health = answer.indexOf("\"status\":\"ok\"");
        int history = answer.indexOf("\"publications\":[{\"offset\":1");
        assertThat(publish).as(answer).isPositive();
        assertThat(health).as(answer).isGreaterThan(publish);
        assertThat(history).as(answer).isGreaterThan(health);
    }

    @Test
    void withAnApiKeyEveryApiEndpointNeedsTheBearerToken() throws Exception {
        TetherServer locked = h.server(b -> b.apiKey("secret"));
        String publish = "{\"channel\":\"sec\",\"data\":1}";
        for (String[] auth : new String[][] {{}, {"Authorization", "Bearer wrong"}, {"Authorization", "Basic c2VjcmV0"},
                {"Authorization", "Bearer secret2"}, {"Authorization", "secret"}}) {
            for (HttpResponse<String> r : List.of(RawHttp.post(locked, "/api/publish", publish, auth),
                    RawHttp.get(locked, "/api/history?channel=sec", auth), RawHttp.get(locked, "/api/presence?channel=sec", auth),
                    RawHttp.get(locked, "/api/channels", auth), RawHttp.get(locked, "/api/nope", auth))) {
                assertError(r, 401, "Authorization");
                assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
            }
        }
        String[] ok = {"Authorization", "Bearer secret"};
        assertThat(json(RawHttp.get(locked, "/api/history?channel=sec", ok)).get("publications")).as("nothing got through").isEmpty();
        assertThat(RawHttp.post(locked, "/api/publish", publish, ok).statusCode()).isEqualTo(200);
        assertThat(RawHttp.post(locked, "/api/publish", publish, "Authorization", "bearer secret").statusCode()).isEqualTo(200);
        assertThat(RawHttp.get(locked, "/api/history?channel=sec", ok).statusCode()).isEqualTo(200);
        assertThat(RawHttp.get(locked, "/api/presence?channel=sec", ok).statusCode()).isEqualTo(200);
        assertThat(RawHttp.get(locked, "/api/channels", ok).statusCode()).isEqualTo(200);
        assertThat(RawHttp.get(locked, "/api/nope", ok).statusCode()).isEqualTo(404);
        for (String open : List.of("/healthz", "/readyz", "/metrics", "/")) {
            assertThat(RawHttp.get(locked, open).statusCode()).as(open).isEqualTo(200);
        }
    }

    @Test
    void historyReturnsTheLatestInAscendingOrderAndWhatFollowsSince() {
        for (int i = 1; i <= 5; i++) {
            RawHttp.post(server, "/api/publish", "{\"channel\":\"h\",\"data\":" + i + "}");
        }
        JsonNode latest = json(RawHttp.get(server, "/api/history?channel=h&limit=2"));
        assertThat(offsets(latest)).containsExactly(4L, 5L);
        assertThat(latest.get("publications").get(0).get("data").asInt()).isEqualTo(4);
        assertThat(latest.get("publications").get(0).get("ts").asLong()).isPositive();
        assertThat(latest.get("offset").asLong()).isEqualTo(5);
        String epoch = latest.get("epoch").asText();
        assertThat(offsets(json(RawHttp.get(server, "/api/history?channel=h")))).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(offsets(json(RawHttp.get(server, "/api/history?channel=h&since=2&epoch=" + epoch)))).containsExactly(3L, 4L, 5L);
        assertThat(offsets(json(RawHttp.get(server, "/api/history?channel=h&since=2&epoch=" + epoch + "&limit=1")))).containsExactly(3L);
        assertThat(offsets(json(RawHttp.get(server, "/api/history?channel=h&since=5&epoch=" + epoch)))).isEmpty();
        JsonNode otherEpoch = json(RawHttp.get(server, "/api/history?channel=h&since=2&epoch=e-gone"));
        assertThat(otherEpoch.get("gap").get("reason").asText()).isEqualTo("epoch");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "/api/history|query parameter 'channel' is missing",
        "/api/history?channel=bad%20name|query parameter 'channel' is not a valid channel name",
        "/api/history?channel=h&channel=i|query parameter 'channel' is given more than once",
        "/api/history?channel=h&limit=abc|query parameter 'limit' must be an integer from 1 to 1000, got 'abc'",
        "/api/history?channel=h&limit=0|query parameter 'limit'",
        "/api/history?channel=h&limit=1001|query parameter 'limit'",
        "/api/history?channel=h&limit=99999999999999999999|query parameter 'limit'",
        "/api/history?channel=h&since=3|'since' and 'epoch' must be given together",
        "/api/history?channel=h&epoch=e-1|'since' and 'epoch' must be given together",
        "/api/history?channel=h&since=x&epoch=e-1|query parameter 'since'",
        "/api/history?channel=h&since=-1&epoch=e-1|query parameter 'since'",
        "/api/presence|query parameter 'channel' is missing",
        "/api/presence?channel=no%20way|query parameter 'channel' is not a valid channel name",
    })
    void badQueryParameterGets400NamingTheParameter(String pathAndQuery, String message) {
        assertError(RawHttp.get(server, pathAndQuery), 400, message);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/api/history?channel=%zz", "/api/history?channel=a%", "/api/presence?channel=%e2%82", "/%zz"})
    void malformedPercentEncodingGets400NotAServerError(String target) throws Exception {
        String answer = RawHttp.exchange(server, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(RawHttp.status(answer)).as(answer).isEqualTo(400);
        assertThat(answer).contains("{\"error\":{\"status\":400,");
    }

    @Test
    void presenceListsASubscribedWebSocketClient() {
        WsTestClient c = h.raw(server);
        JsonNode connected = c.request("{\"id\":1,\"op\":\"connect\",\"info\":{\"name\":\"Ann\"}}", WAIT).get("result");
        h.ok(c, "subscribe", "\"channel\":\"room\"");
        JsonNode clients = json(RawHttp.get(server, "/api/presence?channel=room")).get("clients");
        assertThat(clients).hasSize(1);
        assertThat(clients.get(0).get("client").asText()).isEqualTo(connected.get("client").asText());
        assertThat(clients.get(0).get("user").asText()).isEmpty();
        assertThat(clients.get(0).get("info").get("name").asText()).isEqualTo("Ann");
        h.ok(c, "unsubscribe", "\"channel\":\"room\"");
        assertThat(json(RawHttp.get(server, "/api/presence?channel=room")).get("clients")).isEmpty();
    }

    @Test
    void channelsShowSubscriberCountsAndOffsets() {
        WsTestClient a = h.connected(server);
        WsTestClient b = h.connected(server);
        h.ok(a, "subscribe", "\"channel\":\"x\"");
        h.ok(b, "subscribe", "\"channel\":\"x\"");
        h.ok(a, "subscribe", "\"channel\":\"y\"");
        RawHttp.post(server, "/api/publish", "{\"channel\":\"x\",\"data\":1}");
        RawHttp.post(server, "/api/publish", "{\"channel\":\"x\",\"data\":2}");
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        json(RawHttp.get(server, "/api/channels")).get("channels").forEach(ch -> byName.put(ch.get("channel").asText(), ch));
        assertThat(byName).containsKeys("x", "y");
        assertThat(byName.get("x").get("subscribers").asInt()).isEqualTo(2);
        assertThat(byName.get("x").get("offset").asLong()).isEqualTo(2);
        assertThat(byName.get("y").get("subscribers").asInt()).isEqualTo(1);
        assertThat(byName.get("y").get("offset").asLong()).isZero();
    }

    @Test
    void rootServesTheHtmlPage() {
        for (String path : List.of("/", "/index.html")) {
            HttpResponse<String> r = RawHttp.get(server, path);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
            assertThat(r.body()).containsIgnoringCase("<html");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/nope", "/api/nope", "/index.htm", "/healthz/extra", "/ws/extra"})
    void unknownPathGets404(String path) {
        assertError(RawHttp.get(server, path), 404, path);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"POST,/healthz,GET", "PUT,/readyz,GET", "DELETE,/metrics,GET", "GET,/api/publish,POST",
        "PUT,/api/history?channel=a,GET", "POST,/api/channels,GET", "DELETE,/api/presence?channel=a,GET",
        "POST,/,GET", "DELETE,/index.html,GET", "POST,/ws,GET"})
    void wrongMethodGets405WithAnAllowHeader(String method, String path, String allowed) {
        HttpResponse<String> r = RawHttp.method(server, method, path);
        assertError(r, 405, path.replaceFirst("\\?.*", ""));
        assertThat(r.headers().firstValue("allow")).hasValueSatisfying(a -> assertThat(a).contains(allowed));
    }

    @Test
    void getOnTheWebSocketPathWithoutUpgradeGets426() {
        HttpResponse<String> r = RawHttp.get(server, "/ws");
        assertError(r, 426, "WebSocket");
        assertThat(r.headers().firstValue("upgrade")).as("RFC 9110 15.5.22").hasValue("websocket");
    }

    /** protocol.md J: errors are JSON, also those Netty would answer itself with an empty or plain-text body. */
    @Test
    void refusalsNettyWouldAnswerAreJsonToo() throws Exception {
        String noKey = RawHttp.exchange(server, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n");
        assertThat(RawHttp.status(noKey)).as(noKey).isEqualTo(400);
        assertThat(noKey).contains("application/json").contains("Sec-WebSocket-Key");
        String tooLarge = RawHttp.exchange(server, ("POST /api/publish HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), true);
        assertThat(RawHttp.status(tooLarge)).as(tooLarge).isEqualTo(413);
        assertThat(tooLarge).contains("application/json").contains("request body is larger than");
        String unknownExpectation = RawHttp.exchange(server, ("POST /api/publish HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n"
                + "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), true);
        assertThat(RawHttp.status(unknownExpectation)).as(unknownExpectation).isEqualTo(417);
        assertThat(unknownExpectation).contains("application/json").contains("unsupported Expect header (only 100-continue is supported)");
    }

    /**
     * The WebSocket path is matched after percent-decoding: /w%73 is /ws and gets its handshake,
     * instead of being handed to Netty's handshaker unanswered (it compares the raw target).
     */
    @Test
    void anEncodedWebSocketPathIsUpgradedNotLeftHanging() throws Exception {
        String answer = RawHttp.exchange(server, ("GET /w%73 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), true);
        assertThat(RawHttp.status(answer)).as(answer).isEqualTo(101);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/../pom.xml", "/%2e%2e/pom.xml", "/%2e%2e%2fpom.xml", "/..%2fpom.xml", "/.%2e/.%2e/pom.xml",
        "/static/../../pom.xml", "/..\\pom.xml", "/%5c..%5cpom.xml", "//etc/passwd", "/../../../../../../etc/passwd",
        "/%252e%252e/pom.xml", "/.", "/%2e", "/./", "/index.html%00.js", "/logback.xml", "/../classes/logback.xml",
        "/dev/tether/server/TetherServer.class"})
    void pathTraversalGets404AndNeverAFile(String path) throws Exception {
        String answer = RawHttp.exchange(server, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(RawHttp.status(answer)).as(answer).isEqualTo(404);
        assertThat(answer).doesNotContain("<project", "root:", "<configuration", "index.html\n", "\u00ca\u00fe\u00ba\u00be");
    }

    @Test
    void staticDirServesItsFilesAndNothingOutsideItEvenWhenConfiguredUnnormalized(@TempDir Path tmp) throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.writeString(www.resolve("index.html"), "<html>home</html>");
        Files.writeString(www.resolve("app.js"), "console.log(1)");
        Files.createDirectories(www.resolve("sub"));
        Files.writeString(www.resolve("sub/page.html"), "<html>page</html>");
        Files.writeString(tmp.resolve("secret.txt"), "top secret");
        for (Path dir : List.of(www, tmp.resolve("www/../www"), tmp.resolve("www/./"))) {
            TetherServer s = h.server(b -> b.staticDir(dir));
            assertThat(RawHttp.get(s, "/").body()).as("from %s", dir).isEqualTo("<html>home</html>");
            HttpResponse<String> js = RawHttp.get(s, "/app.js");
            assertThat(js.body()).isEqualTo("console.log(1)");
            assertThat(js.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/javascript"));
            assertThat(RawHttp.get(s, "/sub/page").body()).isEqualTo("<html>page</html>");
            assertThat(RawHttp.get(s, "/sub").statusCode()).isEqualTo(404);
            for (String path : List.of("/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt", "/sub/", "/%2e")) {
                String answer = RawHttp.exchange(s, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertThat(RawHttp.status(answer)).as(path).isEqualTo(404);
                assertThat(answer).doesNotContain("top secret");
            }
        }
    }

    /** Hidden files (a .git directory, a .env) and symbolic links leading out of static-dir are not served. */
    @Test
    void staticDirServesNoHiddenFileAndNoLinkOutOfIt(@TempDir Path tmp) throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.writeString(www.resolve("index.html"), "<html>home</html>");
        Files.createDirectories(www.resolve(".git"));
        Files.writeString(www.resolve(".git/config"), "secret remote");
        Files.writeString(www.resolve(".env"), "TOKEN=secret");
        Files.writeString(tmp.resolve("outside.txt"), "secret outside");
        Files.createSymbolicLink(www.resolve("link.txt"), tmp.resolve("outside.txt"));
        TetherServer s = h.server(b -> b.staticDir(www));
        assertThat(RawHttp.get(s, "/").body()).isEqualTo("<html>home</html>");
        for (String path : List.of("/.git/config", "/.env", "/link.txt")) {
            HttpResponse<String> r = RawHttp.get(s, path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).doesNotContain("secret");
        }
    }

    // --- helpers --------------------------------------------------------------------------------

    private static void assertError(HttpResponse<String> r, int status, String messagePart) {
        assertThat(r.statusCode()).as("status of %s", r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode error = json(r).get("error");
        assertThat(error.get("status").asInt()).isEqualTo(status);
        assertThat(error.get("message").asText()).contains(messagePart);
    }

    private static List<Long> offsets(JsonNode history) {
        List<Long> out = new ArrayList<>();
        history.get("publications").forEach(p -> out.add(p.get("offset").asLong()));
        return out;
    }

    /** Prometheus samples by name with labels, e.g. {@code tether_disconnects_total{code="4500"}}. */
    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }

    static JsonNode json(HttpResponse<String> r) {
        return parse(r.body());
    }

    private static JsonNode parse(String s) {
        try {
            return JSON.readTree(s);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }
}
