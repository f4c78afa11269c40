package dev.tether.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
class FaultProxyTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    private EchoWsServer server;
    private FaultProxy proxy;
    private final List<WsTestClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        server = new EchoWsServer();
        proxy = FaultProxy.start(server.address());
    }

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::abort);
        proxy.close();
        server.close();
    }

    private WsTestClient connectViaProxy() {
        return connectViaProxy(WsTestClient.Options.defaults());
    }

    private WsTestClient connectViaProxy(WsTestClient.Options options) {
        WsTestClient client = WsTestClient.connect(EchoWsServer.uriVia(proxy.port()), options);
        clients.add(client);
        return client;
    }

    @Test
    void forwardsTrafficBothWays() {
        WsTestClient ws = connectViaProxy();

        ws.send("through the proxy");

        assertThat(ws.poll(WAIT)).isEqualTo("through the proxy");
        assertThat(proxy.activeConnections()).isEqualTo(1);
    }

    @Test
    void cutAllClosesEveryProxiedConnection() throws Exception {
        WsTestClient first = connectViaProxy();
        WsTestClient second = connectViaProxy();
        await().atMost(WAIT).until(() -> server.openConnections() == 2);

        int cut = proxy.cutAll();

        assertThat(cut).isEqualTo(2);
        first.disconnected().get(5, TimeUnit.SECONDS);
        second.disconnected().get(5, TimeUnit.SECONDS);
        assertThat(first.closeCode().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(proxy.activeConnections()).isZero();
        assertThat(proxy.totalCut()).isEqualTo(2);
        await().atMost(WAIT).until(() -> server.openConnections() == 0);
    }

    @Test
    void cutAllWithoutConnectionsCutsNothing() {
        assertThat(proxy.cutAll()).isZero();
        assertThat(proxy.totalCut()).isZero();
    }

    @Test
    void cutRandomCutsExactlyOneConnection() throws Exception {
        WsTestClient first = connectViaProxy();
        WsTestClient second = connectViaProxy();

        assertThat(proxy.cutRandom(new Random(42))).isTrue();

        await().atMost(WAIT).until(() -> !first.isOpen() || !second.isOpen());
        WsTestClient survivor = first.isOpen() ? first : second;
        assertThat(first.isOpen() && second.isOpen()).isFalse();
        assertThat(proxy.activeConnections()).isEqualTo(1);
        survivor.send("still here");
        assertThat(survivor.poll(WAIT)).isEqualTo("still here");
        assertThat(survivor.isOpen()).isTrue();
    }

    @Test
    void cutRandomReturnsFalseWhenNothingIsConnected() {
        assertThat(proxy.cutRandom(new Random(1))).isFalse();
    }

    @Test
    void refusingModeClosesNewConnectionsButKeepsLiveOnes() {
        WsTestClient live = connectViaProxy();

        proxy.setRefusing(true);

        assertThatThrownBy(this::connectViaProxy)
                .isInstanceOfSatisfying(WsHandshakeException.class,
                        e -> assertThat(e.status()).isEqualTo(WsHandshakeException.NO_RESPONSE));
        assertThat(proxy.totalRefused()).isEqualTo(1);
        live.send("unaffected");
        assertThat(live.poll(WAIT)).isEqualTo("unaffected");

        proxy.setRefusing(false);

        WsTestClient later = connectViaProxy();
        later.send("welcome back");
        assertThat(later.poll(WAIT)).isEqualTo("welcome back");
    }

    @Test
    void largeEchoSurvivesAPausedReaderBehindTheProxy() {
        WsTestClient ws = connectViaProxy(WsTestClient.Options.defaults().withReceiveBufferBytes(8 * 1024));
        String big = "x".repeat(4 * 1024 * 1024);

        ws.pauseReading();
        ws.send(big);
        ws.send("after");
        // The echo cannot drain while paused; the proxy must hold back rather than lose it.
        assertThat(ws.poll(Duration.ofMillis(200))).isNull();
        ws.resumeReading();

        assertThat(ws.poll(WAIT)).isEqualTo(big);
        assertThat(ws.poll(WAIT)).isEqualTo("after");
    }

    @Test
    void closeResetsLiveConnections() throws Exception {
        WsTestClient ws = connectViaProxy();

        proxy.close();

        ws.disconnected().get(5, TimeUnit.SECONDS);
        assertThat(proxy.activeConnections()).isZero();
        assertThat(proxy.totalCut()).isZero();
    }
}
