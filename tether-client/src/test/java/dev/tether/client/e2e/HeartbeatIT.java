package dev.tether.client.e2e;

import static dev.tether.client.e2e.ClientHarness.WAIT;
import static dev.tether.client.e2e.ClientHarness.awaitState;
import static dev.tether.client.e2e.ClientHarness.url;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.client.TetherClient;
import dev.tether.client.TetherClient.State;
import dev.tether.server.TetherServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HeartbeatIT {

    @Test
    void answeredPingsKeepTheConnectionUpThroughManyPingIntervals() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server(b -> b.pingInterval(Duration.ofMillis(100)).pongTimeout(Duration.ofMillis(100)));
            EventLog log = new EventLog();
            TetherClient c = h.client(url(server), log).connect();
            awaitState(c, State.CONNECTED);
            // Ten ping intervals: a client that did not answer (4001) or that mistook the quiet
            // between pings for a dead connection would have reconnected.
            await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(3))
                    .until(() -> c.state() == State.CONNECTED && log.connected.size() == 1);
            assertThat(log.events).noneMatch(e -> e.startsWith("disconnected"));
        }
    }

    @Test
    void silenceForPingPlusPongIsADeadConnectionThatIsReplaced() throws Exception {
        try (ClientHarness h = new ClientHarness(); SilentServer silent = new SilentServer()) {
            EventLog log = new EventLog();
            TetherClient c = h.client(silent.url(), log).connect();
            await().atMost(WAIT).until(() -> silent.connects.get() >= 3);
            assertThat(silent.pongs.get()).as("every ping answered").isGreaterThanOrEqualTo(2);
            assertThat(log.events).contains("disconnected 1006 reconnect=true");
            assertThat(c.state()).isIn(State.CONNECTED, State.RECONNECTING);
        }
    }
}
