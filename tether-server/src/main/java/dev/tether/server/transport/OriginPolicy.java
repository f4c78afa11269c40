package dev.tether.server.transport;

import dev.tether.server.config.WebOrigin;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser pages may open a WebSocket (PROTOCOL.md section 12). Without configured origins
 * only the server's own origin is accepted: the Origin's host and port must equal the Host header
 * (a Host without a port names the default port of the Origin's scheme). Requests without an Origin
 * header (non-browser clients) are always accepted. Origins compare by scheme, host and port, so
 * {@code https://a.example} and {@code https://a.example:443} are the same origin.
 */
public final class OriginPolicy {
    private final boolean any;
    /** Whether origins are configured: then only those are accepted, even if none of them parses. */
    private final boolean listed;
    private final Set<String> allowed;

    public OriginPolicy(List<String> allowedOrigins) {
        this.any = allowedOrigins.contains("*");
        this.listed = !allowedOrigins.isEmpty();
        this.allowed = allowedOrigins.stream()
                .filter(o -> !o.equals("*"))
                .map(WebOrigin::parse)
                .filter(Objects::nonNull)
                .map(WebOrigin::canonical)
                .collect(Collectors.toUnmodifiableSet());
    }

    public boolean allows(String origin, String host) {
        if (origin == null || any) {
            return true;
        }
        WebOrigin o = WebOrigin.parse(origin);
        if (o == null) {
            return false;
        }
        if (listed) {
            return allowed.contains(o.canonical());
        }
        return host != null && o.isServedBy(host);
    }
}
