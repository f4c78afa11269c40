package dev.tether.server.e2e;

import static dev.tether.server.e2e.Harness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.testkit.leak.NoLeaks;
import dev.tether.server.TetherServer;
import dev.tether.testkit.WsHandshakeException;
import dev.tether.testkit.WsTestClient;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The echo endpoint ({@code echoPath}): raw RFC 6455 behaviour behind Tether's own framing limits. */
@ExtendWith(NoLeaks.class)
class EchoIT {
    private static final int MAX_FRAME = 4096;
    private Harness h;
    private TetherServer server;
    private URI echo;

    @BeforeEach
    void start() throws Exception {
        h = new Harness();
        server = h.server(b -> b.echoPath("/echo").maxFrameBytes(MAX_FRAME).maxPublicationBytes(1024));
        echo = URI.create(server.url().replaceFirst("^http", "ws") + "/echo");
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void textMessagesComeBackUnchangedAndInOrder() {
        WsTestClient c = h.raw(echo);
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            sent.add("message " + i + " héllo wörld \uD83D\uDE00 \"quoted\" {not json");
        }
        sent.add("{\"id\":1,\"op\":\"connect\"}");
        sent.forEach(c::send);
        List<String> got = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            got.add(c.poll(WAIT));
        }
        assertThat(got).containsExactlyElementsOf(sent);
        assertThat(c.isOpen()).isTrue();
    }

    @Test
    void binaryMessagesComeBackUnchanged() {
        WsTestClient c = h.raw(echo);
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        byte[] random = new byte[MAX_FRAME];
        new Random(7).nextBytes(random);
        c.sendBinary(all);
        c.sendBinary(random);
        c.sendBinary(new byte[0]);
        assertThat(c.pollBinary(WAIT)).isEqualTo(all);
        assertThat(c.pollBinary(WAIT)).isEqualTo(random);
        assertThat(c.pollBinary(WAIT)).isEmpty();
    }

    @Test
    void fragmentedMessageComesBackAggregated() {
        WsTestClient c = h.raw(echo);
        StringBuilder text = new StringBuilder();
        while (text.length() < 1000) {
            text.append("fragment ü€\uD83D\uDE00 ").append(text.length()).append(' ');
        }
        int before = c.framesReceived();
        // 7 parts split by bytes, so multi-byte characters straddle frame boundaries
        c.sendFragmented(text.toString(), 7);
        assertThat(c.poll(WAIT)).isEqualTo(text.toString());
        assertThat(c.framesReceived()).isEqualTo(before + 1);
    }

    @Test
    void messageOfExactlyMaxFrameBytesComesBack() {
        WsTestClient c = h.raw(echo);
        String text = "m".repeat(MAX_FRAME);
        c.send(text);
        assertThat(c.poll(WAIT)).isEqualTo(text);
    }

    @Test
    void frameLargerThanMaxFrameBytesIsClosedWith1009() {
        WsTestClient c = h.raw(echo);
        c.send("x".repeat(MAX_FRAME + 1));
        assertThat(c.closeCode()).succeedsWithin(WAIT).isEqualTo(1009);
        assertThat(c.disconnected()).succeedsWithin(WAIT);
        assertThat(c.all()).isEmpty();
    }

    @Test
    void fragmentedMessageLargerThanMaxFrameBytesIsClosedWith1009() {
        WsTestClient c = h.raw(echo);
        c.sendFragmented("y".repeat(3 * MAX_FRAME / 2), 3);
        assertThat(c.closeCode()).succeedsWithin(WAIT).isEqualTo(1009);
        assertThat(c.disconnected()).succeedsWithin(WAIT);
        assertThat(c.all()).isEmpty();
    }

    @Test
    void invalidUtf8IsClosedWith1007() {
        WsTestClient c = h.raw(echo);
        c.sendRawTextFrame(Unpooled.wrappedBuffer(HexFormat.of().parseHex("68656c6c6fc328")));
        assertThat(c.closeCode()).succeedsWithin(WAIT).isEqualTo(1007);
        assertThat(c.disconnected()).succeedsWithin(WAIT);
        assertThat(c.all()).isEmpty();
    }

    @Test
    void protocolPingIsAnsweredWithAPong() {
        WsTestClient c = h.raw(echo);
        c.sendPing();
        c.sendPing();
        await().atMost(WAIT).until(() -> c.pongsReceived() == 2);
        c.send("after pings");
        assertThat(c.poll(WAIT)).isEqualTo("after pings");
        assertThat(c.all()).as("pings are not echoed as messages").containsExactly("after pings");
    }

    @Test
    void tetherEndpointAnswersProtocolPingWithAPongToo() {
        WsTestClient c = h.connected(server);
        c.sendPing();
        await().atMost(WAIT).until(() -> c.pongsReceived() == 1);
        assertThat(c.isOpen()).isTrue();
    }

    @Test
    void normalCloseIsEchoed() {
        WsTestClient c = h.raw(echo);
        c.send("bye soon");
        assertThat(c.poll(WAIT)).isEqualTo("bye soon");
        c.close(1000, "done");
        assertThat(c.closeCode()).isCompletedWithValue(1000);
        assertThat(c.disconnected()).isDone();
    }

    @Test
    void closeWithAnApplicationCodeIsEchoedWithThatCode() {
        WsTestClient c = h.raw(echo);
        c.close(3001, "app says bye");
        assertThat(c.closeCode()).isCompletedWithValue(3001);
    }

    @Test
    void echoEndpointIsAbsentWhenEchoPathIsNotConfigured() throws Exception {
        TetherServer plain = h.server();
        URI noEcho = URI.create(plain.url().replaceFirst("^http", "ws") + "/echo");
        assertThatThrownBy(() -> h.raw(noEcho))
                .isInstanceOfSatisfying(WsHandshakeException.class, e -> assertThat(e.status()).isEqualTo(404));
        assertThat(RawHttp.get(plain, "/echo").statusCode()).isEqualTo(404);
        // the configured server has it, as a WebSocket endpoint only
        assertThat(RawHttp.get(server, "/echo").statusCode()).isEqualTo(426);
    }

    @Test
    void echoEndpointKeepsServingOtherClientsAfterOneIsClosedForABadFrame() {
        WsTestClient good = h.raw(echo);
        WsTestClient bad = h.raw(echo);
        bad.sendRawTextFrame(Unpooled.wrappedBuffer(new byte[] {(byte) 0xff}));
        assertThat(bad.closeCode()).succeedsWithin(WAIT).isEqualTo(1007);
        good.send("still here");
        assertThat(good.poll(WAIT)).isEqualTo("still here");
    }
}
