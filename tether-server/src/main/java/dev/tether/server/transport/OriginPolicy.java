package dev.tether.server.transport;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
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
                .map(Origin::parse)
                .filter(Objects::nonNull)
                .map(Origin::canonical)
                .collect(Collectors.toUnmodifiableSet());
    }

    public boolean allows(String origin, String host) {
        if (origin == null || any) {
            return true;
        }
        Origin o = Origin.parse(origin);
        if (o == null) {
            return false;
        }
        if (listed) {
            return allowed.contains(o.canonical());
        }
        return host != null && o.isServedBy(host);
    }

    /** An origin as scheme, host and port (-1 when the scheme has no known default port and none is given). */
    private record Origin(String scheme, String host, int port) {

        /** The origin, or null when {@code s} is not one (for example "null", a path, user info). */
        static Origin parse(String s) {
            try {
                URI u = new URI(s.trim());
                String path = u.getRawPath();
                if (u.getScheme() == null || u.getHost() == null || u.getRawUserInfo() != null
                        || u.getRawQuery() != null || u.getRawFragment() != null
                        || (path != null && !path.isEmpty() && !path.equals("/"))) {
                    return null;
                }
                String scheme = u.getScheme().toLowerCase(Locale.ROOT);
                int port = u.getPort() != -1 ? u.getPort() : defaultPort(scheme);
                return new Origin(scheme, u.getHost().toLowerCase(Locale.ROOT), port);
            } catch (URISyntaxException e) {
                return null;
            }
        }

        String canonical() {
            return scheme + "://" + host + ":" + port;
        }

        /** Whether a request with this Host header comes from a page of this origin. */
        boolean isServedBy(String hostHeader) {
            String h = hostHeader.trim().toLowerCase(Locale.ROOT);
            int colon = h.lastIndexOf(':');
            boolean hasPort = colon > h.lastIndexOf(']');
            int hostPort;
            if (hasPort) {
                try {
                    hostPort = Integer.parseInt(h.substring(colon + 1));
                } catch (NumberFormatException e) {
                    return false;
                }
            } else {
                hostPort = defaultPort(scheme);
            }
            return port != -1 && port == hostPort && host.equals(hasPort ? h.substring(0, colon) : h);
        }

        private static int defaultPort(String scheme) {
            return switch (scheme) {
                case "http", "ws" -> 80;
                case "https", "wss" -> 443;
                default -> -1;
            };
        }
    }
}
