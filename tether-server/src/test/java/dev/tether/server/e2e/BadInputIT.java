package dev.tether.server.e2e;

import static dev.tether.server.e2e.Harness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsHandshakeException;
import dev.tether.testkit.WsTestClient;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kind of bad input gets exactly the reaction PROTOCOL.md names, and none of it costs a
 * well-behaved bystander anything: a watcher subscribed for the whole class must receive every
 * publication a third client makes before, during and after each abuse, in order, nothing extra.
 */
@ExtendWith(NoLeaks.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {
    private static final int MAX_FRAME = 4096;
    private static final String WATCHED = "watch:bystanders";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Harness h = new Harness();
    private TetherServer server;
    private Bystanders bystanders;

    @BeforeAll
    void start() throws Exception {
        server = h.server(b -> b.maxFrameBytes(MAX_FRAME).maxPublicationBytes(1024).pingInterval(Duration.ofMinutes(10)));
        bystanders = new Bystanders(h, server, WATCHED);
    }

    @AfterAll
    void stop() {
        h.close();
    }

    /** After every abuse: the bystanders got every publication, in offset order, nothing else, and still work. */
    @AfterEach
    void bystandersLostNothing() {
        bystanders.assertLostNothing();
    }

    // --- frames that cannot be answered by id ------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "{\"op\":", "not json at all", "{\"id\":1,\"op\":\"presence\",\"channel\":\"x\"} trailing",
        "{\"id\":1,\"op\":\"presence\",\"op\":\"history\",\"channel\":\"x\"}",
        "[1,2,3]", "[{\"id\":1,\"op\":\"presence\",\"channel\":\"x\"}]", "42", "\"a string\"", "null", "true",
        "{}", "{\"id\":1,\"channel\":\"x\"}", "{\"id\":1,\"op\":7}", "{\"id\":1,\"op\":null}",
        "{\"op\":\"subscribe\",\"channel\":\"x\"}", "{\"op\":\"publish\",\"channel\":\"x\",\"data\":1}",
        "{\"id\":0,\"op\":\"presence\",\"channel\":\"x\"}", "{\"id\":-3,\"op\":\"presence\",\"channel\":\"x\"}",
        "{\"id\":1.5,\"op\":\"presence\",\"channel\":\"x\"}", "{\"id\":\"7\",\"op\":\"presence\",\"channel\":\"x\"}",
        "{\"id\":true,\"op\":\"presence\",\"channel\":\"x\"}",
        "{\"id\":99999999999999999999,\"op\":\"presence\",\"channel\":\"x\"}",
    })
    void unanswerableFrameGetsErrorPush101ThenDisconnect4500(String frame) {
        WsTestClient bad = h.connected(server);
        whilePublishing(() -> {
            bad.send(frame);
            assertErrorPushThenClosed4500(bad);
        });
    }

    @Test
    void malformedJsonBeforeConnectIsAlsoClosedWith4500() {
        WsTestClient bad = h.raw(server);
        whilePublishing(() -> {
            bad.send("{{{");
            assertErrorPushThenClosed4500(bad);
        });
    }

    @Test
    void inABatchTheLinesBeforeAMalformedOneAreAnsweredAndTheLinesAfterItAreNotRun() {
        WsTestClient bad = h.connected(server);
        whilePublishing(() -> {
            bad.send("{\"id\":5,\"op\":\"presence\",\"channel\":\"x\"}\n{oops\n"
                    + "{\"id\":6,\"op\":\"publish\",\"channel\":\"" + WATCHED + "\",\"data\":\"ghost\"}");
            assertErrorPushThenClosed4500(bad);
            assertThat(bad.all().get(1)).contains("\"id\":5").contains("\"result\"");
            assertThat(bad.all()).noneMatch(m -> m.contains("\"id\":6"));
        });
    }

    // --- commands the server answers with an error reply -------------------------------------

    @Test
    void unknownOpWithAnIdGetsErrorReply102AndTheConnectionStaysOpen() {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            JsonNode e = h.error(c, "frobnicate", "\"channel\":\"x\"");
            assertThat(e.get("code").asInt()).isEqualTo(102);
            assertThat(e.get("temporary")).isEqualTo(BooleanNode.FALSE);
            assertThat(e.get("message").asText()).contains("frobnicate");
            assertStillServed(c);
        });
    }

    static Stream<String> invalidChannelNames() {
        return Stream.of("", " ", "has space", "x".repeat(256), "ünïcode", "emoji-\uD83D\uDE00", "star*", "semi;colon",
                "quote\"", "back\\slash", "new\nline", "tab\t", "percent%20", "comma,separated");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("invalidChannelNames")
    void invalidChannelNameGetsError101NamingTheChannelFieldInEveryCommand(String name) throws JsonProcessingException {
        WsTestClient c = h.connected(server);
        String channel = "\"channel\":" + JSON.writeValueAsString(name);
        whilePublishing(() -> {
            for (String[] cmd : new String[][] {{"subscribe", ""}, {"unsubscribe", ""}, {"publish", ",\"data\":1"},
                    {"history", ""}, {"presence", ""}}) {
                JsonNode e = h.error(c, cmd[0], channel + cmd[1]);
                assertThat(e.get("code").asInt()).as("%s", cmd[0]).isEqualTo(101);
                assertThat(e.get("temporary")).isEqualTo(BooleanNode.FALSE);
                assertThat(e.get("message").asText()).contains("'channel'");
            }
            assertStillServed(c);
        });
    }

    @Test
    void channelNamesAtTheEdgeOfTheRulesAreAccepted() {
        WsTestClient c = h.connected(server);
        for (String name : List.of("A-z_0:9.@/=#x", "y".repeat(255), "a")) {
            assertThat(h.ok(c, "subscribe", "\"channel\":\"" + name + "\"").get("channel").asText()).isEqualTo(name);
        }
    }

    @Test
    void personalChannelOfAnotherUserGetsError103() {
        WsTestClient c = h.connected(server);
        assertThat(h.error(c, "subscribe", "\"channel\":\"#alice\"").get("code").asInt()).isEqualTo(103);
        assertStillServed(c);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', textBlock = """
        subscribe   | "channel":5                                                | 'channel'
        subscribe   | "channel":null                                             | 'channel'
        subscribe   | "channel":["typed"]                                        | 'channel'
        subscribe   | "channel":"typed","presence":"yes"                         | 'presence'
        subscribe   | "channel":"typed","since":5                                | 'since'
        subscribe   | "channel":"typed","since":"1"                              | 'since'
        subscribe   | "channel":"typed","since":{"offset":"1","epoch":"e"}       | 'since.offset'
        subscribe   | "channel":"typed","since":{"offset":-1,"epoch":"e"}        | 'since.offset'
        subscribe   | "channel":"typed","since":{"offset":1}                     | 'since.epoch'
        history     | "channel":"typed","limit":5000                             | 'limit'
        history     | "channel":"typed","limit":0                                | 'limit'
        history     | "channel":"typed","limit":2.5                              | 'limit'
        history     | "channel":"typed","limit":"10"                             | 'limit'
        history     | "channel":"typed","since":[]                               | 'since'
        publish     | "channel":"typed"                                          | 'data'
        publish     | "channel":"typed","data":1,"key":7                         | 'key'
        publish     | "channel":"typed","data":1,"key":"<129 characters>"        | 'key'
        unsubscribe | "channel":{}                                               | 'channel'
        presence    | "channel":true                                             | 'channel'
        """)
    void mistypedFieldGetsError101NamingTheFieldAndChangesNothing(String op, String fields, String field) {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            JsonNode e = h.error(c, op, fields.replace("<129 characters>", "k".repeat(129)));
            assertThat(e.get("code").asInt()).isEqualTo(101);
            assertThat(e.get("temporary")).isEqualTo(BooleanNode.FALSE);
            assertThat(e.get("message").asText()).contains(field);
            // nothing half-done: the channel can be subscribed now, and nothing was published to it
            assertThat(h.ok(c, "subscribe", "\"channel\":\"typed\"").get("channel").asText()).isEqualTo("typed");
            assertThat(h.ok(c, "history", "\"channel\":\"typed\"").get("publications")).isEmpty();
        });
    }

    @Test
    void publicationLargerThanMaxPublicationBytesGetsError108() {
        WsTestClient c = h.connected(server);
        JsonNode e = h.error(c, "publish", "\"channel\":\"big\",\"data\":\"" + "d".repeat(1100) + "\"");
        assertThat(e.get("code").asInt()).isEqualTo(108);
        assertThat(h.ok(c, "history", "\"channel\":\"big\"").get("publications")).isEmpty();
    }

    @Test
    void commandsBeforeConnectGetError104ThenConnectWorksAndASecondConnectGets105() {
        WsTestClient c = h.raw(server);
        whilePublishing(() -> {
            for (String[] cmd : new String[][] {{"subscribe", ""}, {"unsubscribe", ""}, {"history", ""},
                    {"presence", ""}, {"publish", ",\"data\":\"sneaked in before connect\""}}) {
                JsonNode e = h.error(c, cmd[0], "\"channel\":\"" + WATCHED + "\"" + cmd[1]);
                assertThat(e.get("code").asInt()).as("%s", cmd[0]).isEqualTo(104);
                assertThat(e.get("temporary")).isEqualTo(BooleanNode.FALSE);
            }
            c.send("{\"op\":\"ack\",\"channel\":\"" + WATCHED + "\",\"offset\":1}");
            h.connect(c, null);
            assertThat(h.error(c, "connect", "").get("code").asInt()).isEqualTo(105);
            assertStillServed(c);
        });
    }

    @Test
    void mistypedConnectFieldGetsError101AndConnectCanBeRetried() {
        WsTestClient c = h.raw(server);
        JsonNode e = h.error(c, "connect", "\"name\":5");
        assertThat(e.get("code").asInt()).isEqualTo(101);
        assertThat(e.get("message").asText()).contains("'name'");
        h.connect(c, null);
        assertStillServed(c);
    }

    // --- frames the WebSocket layer refuses ---------------------------------------------------

    @Test
    void frameOfExactlyMaxFrameBytesIsAccepted() {
        WsTestClient c = h.connected(server);
        c.send(presenceFrame(88, MAX_FRAME));
        assertThat(c.await(n -> n.path("id").asLong() == 88, WAIT).has("result")).isTrue();
    }

    @Test
    void frameOneByteLargerThanMaxFrameBytesIsClosedWith1009() {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            c.send(presenceFrame(1, MAX_FRAME + 1));
            assertClosedWith(c, 1009);
        });
    }

    @Test
    void fragmentedMessageWithinTheLimitIsReassembledAndAnswered() {
        WsTestClient c = h.connected(server);
        c.sendFragmented(presenceFrame(77, 3000), 7);
        JsonNode r = c.await(n -> n.path("id").asLong() == 77, WAIT);
        assertThat(r.has("result")).as("reply %s", r).isTrue();
    }

    @Test
    void fragmentedMessageWhoseTotalExceedsMaxFrameBytesIsClosedWith1009() {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            // every fragment is under the limit (2000 bytes), together they are over it
            c.sendFragmented(presenceFrame(1, 6000), 3);
            assertClosedWith(c, 1009);
        });
    }

    @Test
    void invalidUtf8InATextFrameIsClosedWith1007AndNotRun() {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            // 0xc3 starts a two-byte sequence; 0x28 '(' cannot continue it
            c.sendRawTextFrame(Unpooled.wrappedBuffer(utf8Parts("{\"id\":5,\"op\":\"presence\",\"channel\":\"a", "\"}", 0xc3, 0x28)));
            assertClosedWith(c, 1007);
            assertThat(c.all()).noneMatch(m -> m.contains("\"id\":5"));
        });
    }

    @Test
    void invalidUtf8SplitAcrossFragmentsIsClosedWith1007() {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            // each fragment on its own could be the start or end of a character; together they are not UTF-8
            c.sendRawFragments(bytes("{\"id\":6,\"op\":\"presence\",\"channel\":\"a", 0xe2, 0x82),
                    bytes("", 0x28), bytes("\"}"));
            assertClosedWith(c, 1007);
            assertThat(c.all()).noneMatch(m -> m.contains("\"id\":6"));
        });
    }

    @Test
    void utf8EncodedSurrogateIsClosedWith1007() {
        WsTestClient c = h.connected(server);
        // U+D800 encoded as if it were a character (CESU-8): not UTF-8 (RFC 3629)
        c.sendRawTextFrame(Unpooled.wrappedBuffer(utf8Parts("{\"id\":7,\"op\":\"presence\",\"channel\":\"a", "\"}", 0xed, 0xa0, 0x80)));
        assertClosedWith(c, 1007);
    }

    @Test
    void characterStraddlingTwoFragmentsIsAccepted() {
        WsTestClient c = h.connected(server);
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8); // three bytes
        c.sendRawFragments(bytes("{\"id\":8,\"op\":\"presence\",\"channel\":\"a", euro[0], euro[1]),
                bytes("", euro[2]), bytes("\"}"));
        // decoded and parsed: the channel name with a euro sign is then refused by name validation
        JsonNode r = c.await(n -> n.path("id").asLong() == 8, WAIT);
        assertThat(r.path("error").path("code").asInt()).as("reply %s", r).isEqualTo(101);
        assertThat(r.path("error").path("message").asText()).contains("channel");
        assertStillServed(c);
    }

    private static byte[] bytes(String ascii, int... extra) {
        byte[] head = ascii.getBytes(StandardCharsets.US_ASCII);
        byte[] out = java.util.Arrays.copyOf(head, head.length + extra.length);
        for (int i = 0; i < extra.length; i++) {
            out[head.length + i] = (byte) extra[i];
        }
        return out;
    }

    private static byte[] utf8Parts(String before, String after, int... middle) {
        byte[] a = bytes(before, middle);
        byte[] b = after.getBytes(StandardCharsets.US_ASCII);
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void binaryFrameIsClosedWith1003() {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            c.sendBinary("{\"id\":1,\"op\":\"presence\",\"channel\":\"x\"}".getBytes(StandardCharsets.UTF_8));
            assertClosedWith(c, 1003);
            assertThat(c.all()).noneMatch(m -> m.contains("\"id\":1"));
        });
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"c328", "c0af", "eda080", "f4908080", "ff", "7b226f70223a22e2"})
    void invalidUtf8InATextFrameIsClosedWith1007(String hex) {
        WsTestClient c = h.connected(server);
        whilePublishing(() -> {
            c.sendRawTextFrame(Unpooled.wrappedBuffer(HexFormat.of().parseHex(hex)));
            assertClosedWith(c, 1007);
        });
    }

    // --- Origin -------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"http://evil.example", "null", "http://127.0.0.1:1", "http://127.0.0.1.evil.example", "not an origin"})
    void foreignOriginIsRefusedWith403BeforeTheUpgrade(String origin) {
        whilePublishing(() -> assertRefused(server, origin(origin), 403));
    }

    @Test
    void sameOriginAsTheHostHeaderIsAccepted() {
        WsTestClient c = h.raw(URI.create(server.wsUrl()), opts(origin("http://127.0.0.1:" + server.port())));
        h.connect(c, null);
        assertStillServed(c);
    }

    @Test
    void clientWithoutOriginIsAccepted() {
        assertStillServed(h.connected(server));
    }

    @Test
    void hostWithoutPortMatchesOnlyAnOriginOnTheDefaultPort() {
        assertRefused(server, origin("http://127.0.0.1:8080").set("Host", "127.0.0.1"), 403);
        h.connect(h.raw(URI.create(server.wsUrl()), opts(origin("http://127.0.0.1").set("Host", "127.0.0.1"))), null);
    }

    @Test
    void withAllowedOriginsStarAnyOriginIsAccepted() throws Exception {
        TetherServer any = h.server(b -> b.allowedOrigins(List.of("*")));
        for (String o : List.of("http://evil.example", "null", "https://anything.example:8443")) {
            h.connect(h.raw(URI.create(any.wsUrl()), opts(origin(o))), null);
        }
    }

    @Test
    void withAnAllowedOriginsListOnlyThoseOriginsAreAccepted() throws Exception {
        TetherServer listed = h.server(b -> b.allowedOrigins(List.of("http://good.example", "https://app.example:443")));
        for (String o : List.of("http://good.example", "http://good.example/", "https://app.example", "https://app.example:443")) {
            h.connect(h.raw(URI.create(listed.wsUrl()), opts(origin(o))), null);
        }
        for (String o : List.of("http://evil.example", "https://good.example", "http://good.example:8080",
                "http://good.example.evil.example", "http://127.0.0.1:" + listed.port())) {
            assertRefused(listed, origin(o), 403);
        }
    }

    // --- garbage HTTP ---------------------------------------------------------------------------

    @ParameterizedTest(name = "[{index}]")
    @MethodSource("dev.tether.server.e2e.RawHttp#garbageRequests")
    void garbageHttpGetsA400ClassResponseAndTheServerKeepsServing(String request) {
        whilePublishing(() -> {
            String answer = RawHttp.exchangeOrFail(server, request.getBytes(StandardCharsets.ISO_8859_1), false);
            assertThat(RawHttp.status(answer)).as("answer %s", RawHttp.abbreviate(answer)).isBetween(400, 499);
            assertThat(RawHttp.get(server, "/healthz").statusCode()).isEqualTo(200);
        });
    }

    @ParameterizedTest(name = "[{index}]")
    @MethodSource("dev.tether.server.e2e.RawHttp#draftWebSocketHandshakes")
    void webSocketUpgradeOfADraftVersionGets426NamingVersion13(String request) {
        whilePublishing(() -> {
            String answer = RawHttp.exchangeOrFail(server, request.getBytes(StandardCharsets.ISO_8859_1), false);
            assertThat(RawHttp.status(answer)).as("answer %s", RawHttp.abbreviate(answer)).isEqualTo(426);
            assertThat(answer.toLowerCase(java.util.Locale.ROOT)).contains("sec-websocket-version: 13\r\n");
        });
    }

    @ParameterizedTest(name = "[{index}]")
    @MethodSource("dev.tether.server.e2e.RawHttp#truncatedRequests")
    void requestCutOffByTheClientEndsCleanlyWithoutAHang(byte[] request) {
        whilePublishing(() -> {
            String answer = RawHttp.exchangeOrFail(server, request, true);
            assertThat(answer.isEmpty() || RawHttp.status(answer) / 100 == 4).as("answer %s", RawHttp.abbreviate(answer)).isTrue();
            assertThat(RawHttp.get(server, "/healthz").statusCode()).isEqualTo(200);
        });
    }

    // --- helpers --------------------------------------------------------------------------------

    private void whilePublishing(Runnable abuse) {
        bystanders.whilePublishing(abuse);
    }

    private static void assertClosedWith(WsTestClient c, int code) {
        assertThat(c.closeCode()).succeedsWithin(WAIT).isEqualTo(code);
        assertThat(c.disconnected()).succeedsWithin(WAIT);
    }

    private void assertErrorPushThenClosed4500(WsTestClient bad) {
        assertClosedWith(bad, 4500);
        List<JsonNode> pushes = bad.all().stream().map(BadInputIT::parse).filter(n -> n.has("op")).toList();
        assertThat(pushes).extracting(n -> n.get("op").asText()).containsExactly("error", "disconnect");
        JsonNode error = pushes.get(0);
        assertThat(error.has("id")).isFalse();
        assertThat(error.get("code").asInt()).isEqualTo(101);
        assertThat(error.get("message").asText()).isNotBlank();
        JsonNode disconnect = pushes.get(1);
        assertThat(disconnect.get("code").asInt()).isEqualTo(4500);
        assertThat(disconnect.get("reconnect")).isEqualTo(BooleanNode.FALSE);
        assertThat(disconnect.get("reason").asText()).isNotBlank();
    }

    private void assertStillServed(WsTestClient c) {
        assertThat(h.ok(c, "history", "\"channel\":\"" + WATCHED + "\",\"limit\":1").get("offset").asLong()).isPositive();
        assertThat(c.isOpen()).isTrue();
    }

    private void assertRefused(TetherServer s, HttpHeaders headers, int status) {
        assertThatThrownBy(() -> h.raw(URI.create(s.wsUrl()), opts(headers)))
                .isInstanceOfSatisfying(WsHandshakeException.class, e -> {
                    assertThat(e.status()).isEqualTo(status);
                    assertThat(e.body()).contains("origin");
                });
    }

    private static HttpHeaders origin(String origin) {
        return new DefaultHttpHeaders().set("Origin", origin);
    }

    private static WsTestClient.Options opts(HttpHeaders headers) {
        return WsTestClient.Options.defaults().withHeaders(headers);
    }

    /** A valid presence command padded with spaces to exactly {@code bytes} bytes. */
    private static String presenceFrame(long id, int bytes) {
        String head = "{\"id\":" + id + ",\"op\":\"presence\",\"channel\":\"x\"";
        String frame = head + " ".repeat(bytes - head.length() - 1) + "}";
        assertThat(frame.getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
        return frame;
    }

    private static JsonNode parse(String message) {
        try {
            return JSON.readTree(message);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON from the server: " + message, e);
        }
    }
}
