package dev.tether.client.e2e;

import static dev.tether.client.e2e.ClientHarness.WAIT;
import static dev.tether.client.e2e.ClientHarness.awaitState;
import static dev.tether.client.e2e.ClientHarness.url;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.client.TetherClient;
import dev.tether.client.TetherClient.State;
import dev.tether.server.TetherServer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class AuthIT {
    private static final String SECRET = "test-secret-of-enough-length-0123456789";

    private static String token(String user, long expSeconds) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" + expSeconds + "}").getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] sig = mac.doFinal((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
        return header + "." + claims + "." + b64.encodeToString(sig);
    }

    @Test
    void anExpiredTokenIsReplacedWithAFreshOneFromTheSupplier() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server(b -> b.tokenSecret(SECRET).allowAnonymous(false));
            long now = System.currentTimeMillis() / 1000;
            String expired = token("alice", now - 60);
            String fresh = token("alice", now + 3600);
            AtomicInteger asked = new AtomicInteger();
            EventLog log = new EventLog();
            TetherClient c = h.client(h.builder(url(server)).listener(log)
                    .tokenSupplier(() -> CompletableFuture.completedFuture(asked.incrementAndGet() == 1 ? expired : fresh))).connect();
            awaitState(c, State.CONNECTED);
            assertThat(asked.get()).isEqualTo(2);
            assertThat(log.connected.get(0).user()).isEqualTo("alice");
        }
    }

    /**
     * A supplier that returns null, or a stage that never completes, is a failed attempt that the
     * client retries: it never stays CONNECTING for ever.
     */
    @Test
    void aTokenSupplierThatReturnsNullOrNeverAnswersIsRetried() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server(b -> b.tokenSecret(SECRET).allowAnonymous(false));
            String fresh = token("alice", System.currentTimeMillis() / 1000 + 3600);
            AtomicInteger asked = new AtomicInteger();
            TetherClient c = h.client(h.builder(url(server)).connectTimeout(java.time.Duration.ofSeconds(1))
                    .tokenSupplier(() -> switch (asked.incrementAndGet()) {
                        case 1 -> null;
                        case 2 -> new CompletableFuture<>(); // never completes
                        default -> CompletableFuture.completedFuture(fresh);
                    })).connect();
            awaitState(c, State.CONNECTED);
            assertThat(asked.get()).as("null, then no answer, then a token").isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void aRejectedTokenClosesTheClientForGood() throws Exception {
        try (ClientHarness h = new ClientHarness()) {
            TetherServer server = h.server(b -> b.tokenSecret(SECRET).allowAnonymous(false));
            EventLog log = new EventLog();
            TetherClient c = h.client(h.builder(url(server)).listener(log).token("not-a-jwt")).connect();
            assertThat(log.closedCode.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isIn(103, 4501);
            assertThat(c.state()).isEqualTo(State.CLOSED);
            assertThat(log.connected).isEmpty();
        }
    }
}
