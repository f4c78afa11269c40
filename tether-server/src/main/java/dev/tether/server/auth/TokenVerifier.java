package dev.tether.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies connect tokens: JWTs signed with HS256 and the configured {@code token-secret}.
 * Claims used: {@code sub} (the user, required), {@code exp} (seconds since the epoch, optional),
 * {@code info} (an object shown in presence, optional).
 */
public final class TokenVerifier {
    private final byte[] secret;
    private final Clock clock;

    /** @param secret the HS256 secret, or null when tokens are not verified */
    public TokenVerifier(String secret, Clock clock) {
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.clock = clock;
    }

    public boolean enabled() {
        return secret != null;
    }

    /** The verified identity, or an exception saying why the token is refused. */
    public Identity verify(String token) throws InvalidTokenException {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new InvalidTokenException("token is not a JWT (header.payload.signature)", false);
        }
        JsonNode header = decode(parts[0], "header");
        if (!"HS256".equals(header.path("alg").asText())) {
            throw new InvalidTokenException("token algorithm must be HS256", false);
        }
        byte[] expected = sign(parts[0] + "." + parts[1]);
        byte[] given;
        try {
            given = Base64.getUrlDecoder().decode(parts[2]);
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("token signature is not base64url", false);
        }
        if (!MessageDigest.isEqual(expected, given)) {
            throw new InvalidTokenException("token signature does not verify", false);
        }
        JsonNode claims = decode(parts[1], "payload");
        JsonNode exp = claims.get("exp");
        if (exp != null && exp.isNumber() && exp.asLong() * 1000 <= clock.millis()) {
            throw new InvalidTokenException("token expired", true);
        }
        String sub = claims.path("sub").asText("");
        if (sub.isEmpty()) {
            throw new InvalidTokenException("token has no 'sub' claim", false);
        }
        JsonNode info = claims.get("info");
        return new Identity(sub, info != null && info.isObject() ? info.toString() : null);
    }

    /** Signs claims into a token; used by tests and tooling. */
    public String issue(String claimsJson) {
        Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
        String head = enc.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String body = enc.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8));
        return head + "." + body + "." + enc.encodeToString(sign(head + "." + body));
    }

    private byte[] sign(String input) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static JsonNode decode(String part, String what) throws InvalidTokenException {
        try {
            JsonNode n = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(part));
            if (n == null || !n.isObject()) {
                throw new InvalidTokenException("token " + what + " is not a JSON object", false);
            }
            return n;
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new InvalidTokenException("token " + what + " is not base64url JSON", false);
        }
    }

    /** Who a token says the client is. */
    public record Identity(String user, String infoJson) {
    }

    /** A refused token; {@code expired} distinguishes error 112 from other refusals. */
    public static final class InvalidTokenException extends Exception {
        private final boolean expired;

        public InvalidTokenException(String message, boolean expired) {
            super(message, null, false, false);
            this.expired = expired;
        }

        public boolean expired() {
            return expired;
        }
    }
}
