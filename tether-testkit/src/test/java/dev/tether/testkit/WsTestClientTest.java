package dev.tether.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
class WsTestClientTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    /** How long a test watches for something that must not arrive. */
    private static final Duration QUIET = Duration.ofMillis(200);

    private EchoWsServer server;
    private final List<WsTestClient> clients = new ArrayList<>();

    @BeforeEach
    void startServer() {
        server = new EchoWsServer();
    }

    @AfterEach
    void stopServer() {
        clients.forEach(WsTestClient::abort);
        server.close();
    }

    private WsTestClient connect() {
        WsTestClient client = WsTestClient.connect(server.uri());
        clients.add(client);
        return client;
    }

    @Test
    void sendsAndReceivesTextMessages() {
        WsTestClient ws = connect();

        ws.send("hello");
        ws.send("{\"op\":\"x\"}");

        assertThat(ws.poll(WAIT)).isEqualTo("hello");
        assertThat(ws.pollJson(WAIT).path("op").asText()).isEqualTo("x");
        assertThat(ws.all()).containsExactly("hello", "{\"op\":\"x\"}");
    }

    @Test
    void splitsABatchedFrameIntoOneMessagePerLine() {
        WsTestClient ws = connect();

        ws.send("batch");

        assertThat(ws.pollJson(WAIT).path("n").asInt()).isEqualTo(1);
        assertThat(ws.pollJson(WAIT).path("n").asInt()).isEqualTo(2);
        assertThat(ws.pollJson(WAIT).path("n").asInt()).isEqualTo(3);
        assertThat(ws.poll(QUIET)).isNull();
        assertThat(ws.framesReceived()).isEqualTo(1);
    }

    @Test
    void fragmentedMessageArrivesWhole() {
        WsTestClient ws = connect();
        String text = "fragmenté — ünïcödé split across frames ✓".repeat(10);

        ws.sendFragmented(text, 7);

        assertThat(ws.poll(WAIT)).isEqualTo(text);
        assertThat(ws.framesReceived()).isEqualTo(1);
    }

    @Test
    void binaryFramesGoToTheirOwnQueue() {
        WsTestClient ws = connect();

        ws.sendBinary(new byte[] {1, 2, 3});
        ws.send("text");

        assertThat(ws.pollBinary(WAIT)).containsExactly(1, 2, 3);
        assertThat(ws.poll(WAIT)).isEqualTo("text");
    }

    @Test
    void requestReturnsTheReplyAndKeepsMessagesThatCameFirst() {
        WsTestClient ws = connect();
        ws.send("{\"op\":\"push\"}");

        JsonNode reply = ws.request("{\"id\":7,\"op\":\"echo\"}", WAIT);

        assertThat(reply.path("id").asInt()).isEqualTo(7);
        assertThat(ws.pollJson(WAIT).path("op").asText()).isEqualTo("push");
        assertThat(ws.poll(QUIET)).isNull();
    }

    @Test
    void requestWithoutIdIsRejected() {
        WsTestClient ws = connect();

        assertThatThrownBy(() -> ws.request("{\"op\":\"echo\"}", WAIT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void awaitSkipsNonMatchingMessagesButAllKeepsThem() {
        WsTestClient ws = connect();
        ws.send("{\"n\":1}");
        ws.send("not json");
        ws.send("{\"n\":2}");

        JsonNode second = ws.await(m -> m.path("n").asInt() == 2, WAIT);

        assertThat(second.path("n").asInt()).isEqualTo(2);
        assertThat(ws.all()).containsExactly("{\"n\":1}", "not json", "{\"n\":2}");
        assertThat(ws.poll(QUIET)).isNull();
    }

    @Test
    void awaitFailsWithTheRecentMessagesWhenNothingMatches() {
        WsTestClient ws = connect();
        ws.send("{\"n\":1}");

        assertThatThrownBy(() -> ws.await(m -> m.has("never"), QUIET))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("{\"n\":1}");
    }

    @Test
    void pingIsAnsweredWithPong() {
        WsTestClient ws = connect();

        ws.sendPing();

        await().atMost(WAIT).until(() -> ws.pongsReceived() == 1);
    }

    @Test
    void closeCodeReportsTheServersCodeAndReason() throws Exception {
        WsTestClient ws = connect();

        ws.send("close:4002:slow consumer");

        assertThat(ws.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(4002);
        assertThat(ws.closeReason()).isEqualTo("slow consumer");
        ws.disconnected().get(5, TimeUnit.SECONDS);
        assertThat(ws.isOpen()).isFalse();
    }

    @Test
    void closeCodeIsMinusOneWhenTcpEndsWithoutCloseFrame() throws Exception {
        WsTestClient ws = connect();

        ws.send("drop");

        assertThat(ws.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(ws.closeReason()).isNull();
    }

    @Test
    void invalidUtf8InARawTextFrameIsSentAsIs() throws Exception {
        WsTestClient ws = connect();

        ws.sendRawTextFrame(Unpooled.wrappedBuffer(new byte[] {(byte) 0xC3, (byte) 0x28}));

        assertThat(ws.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(1007);
    }

    @Test
    void closeRunsTheClosingHandshake() throws Exception {
        WsTestClient ws = connect();

        ws.close(1000, "bye");

        assertThat(ws.disconnected()).isDone();
        assertThat(ws.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(1000);
        await().atMost(WAIT).until(() -> server.openConnections() == 0);
    }

    @Test
    void abortEndsTcpWithoutCloseFrame() throws Exception {
        WsTestClient ws = connect();

        ws.abort();

        assertThat(ws.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        await().atMost(WAIT).until(() -> server.openConnections() == 0);
    }

    @Test
    void pausedClientReceivesNothingUntilResumed() {
        WsTestClient ws = connect();

        ws.pauseReading();
        ws.send("held back");

        assertThat(ws.poll(QUIET)).isNull();
        ws.resumeReading();
        assertThat(ws.poll(WAIT)).isEqualTo("held back");
    }

    @Test
    void offeredSubprotocolIsSelected() {
        WsTestClient ws = WsTestClient.connect(server.uri(), null, EchoWsServer.SUBPROTOCOL);
        clients.add(ws);

        assertThat(ws.selectedSubprotocol()).isEqualTo(EchoWsServer.SUBPROTOCOL);
        assertThat(connect().selectedSubprotocol()).isNull();
    }

    @Test
    void refusedUpgradeThrowsWithTheHttpStatus() {
        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        headers.add("X-Refuse", "yes");

        assertThatThrownBy(() -> WsTestClient.connect(server.uri(), headers, null))
                .isInstanceOfSatisfying(WsHandshakeException.class, e -> assertThat(e.status()).isEqualTo(403));
    }

    @Test
    void unreachableServerThrowsWithNoResponseStatus() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        URI uri = EchoWsServer.uriVia(closedPort);

        assertThatThrownBy(() -> WsTestClient.connect(uri))
                .isInstanceOfSatisfying(WsHandshakeException.class,
                        e -> assertThat(e.status()).isEqualTo(WsHandshakeException.NO_RESPONSE));
    }

    @Test
    void sendsFromManyThreadsAllArrive() throws Exception {
        WsTestClient ws = connect();
        int threads = 4;
        int perThread = 250;
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread sender = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    ws.sendFragmented("{\"t\":" + thread + ",\"i\":" + i + "}", 3);
                }
            });
            sender.start();
            senders.add(sender);
        }
        for (Thread sender : senders) {
            sender.join();
        }

        await().atMost(WAIT).until(() -> ws.all().size() == threads * perThread);
        assertThat(ws.all()).doesNotHaveDuplicates().allMatch(m -> m.startsWith("{\"t\":"));
    }
}
