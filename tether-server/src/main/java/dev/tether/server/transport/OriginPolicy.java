package dev.tether.server.transport;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser pages may open a WebSocket (PROTOCOL.md section 12). Without configured origins
 * only the server's own origin is accepted: the Origin's host and port must equal the Host header.
 * Requests without an Origin header (non-browser clients) are always accepted.
 */
final class OriginPolicy {
    private final boolean any;
    private final Set<String> allowed;

    OriginPolicy(List<String> allowedOrigins) {
        this.any = allowedOrigins.contains("*");
        this.allowed = allowedOrigins.stream().map(OriginPolicy::normalize).collect(Collectors.toUnmodifiableSet());
    }

    boolean allows(String origin, String host) {
        if (origin == null || any) {
            return true;
        }
        String o = normalize(origin);
        if (!allowed.isEmpty()) {
            return allowed.contains(o);
        }
        if (host == null) {
            return false;
        }
        try {
            URI u = URI.create(o);
            if (u.getHost() == null) {
                return false;
            }
            int port = u.getPort() != -1 ? u.getPort() : ("https".equals(u.getScheme()) ? 443 : 80);
            String originHostPort = u.getHost() + ":" + port;
            String h = host.toLowerCase(Locale.ROOT);
            String hostWithPort = h.lastIndexOf(':') > h.lastIndexOf(']') ? h : h + ":" + port;
            return originHostPort.equals(hostWithPort);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String normalize(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }
}
