package dev.tether.server.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A browser origin, {@code scheme://host[:port]} (RFC 6454), as the {@code Origin} header and
 * {@code allowed-origins} write it. Parsed by hand rather than with {@link java.net.URI}, which
 * gives no host for names such as {@code tether_server} (common in container networks), so that
 * the configuration check and the server's runtime check accept exactly the same strings.
 *
 * @param port the given port, or the scheme's default (80 for http/ws, 443 for https/wss), or -1
 */
public record WebOrigin(String scheme, String host, int port) {
    private static final Pattern SCHEME = Pattern.compile("[a-z][a-z0-9+.-]*");
    /** A registered name or IPv4 address (letters, digits, '-', '.', '_', '~'), or an IPv6 literal. */
    private static final Pattern HOST = Pattern.compile("[a-z0-9._~-]+|\\[[0-9a-f:.]+\\]");

    /**
     * The origin, or null when {@code text} is not one: "null", a path other than "/", a query,
     * user info, an empty host or a port outside 1-65535.
     */
    public static WebOrigin parse(String text) {
        if (text == null) {
            return null;
        }
        String s = text.trim().toLowerCase(Locale.ROOT);
        int sep = s.indexOf("://");
        if (sep <= 0 || !SCHEME.matcher(s.substring(0, sep)).matches()) {
            return null;
        }
        String scheme = s.substring(0, sep);
        String authority = s.substring(sep + 3);
        if (authority.endsWith("/")) {
            authority = authority.substring(0, authority.length() - 1);
        }
        String host = authority;
        int port = defaultPort(scheme);
        int colon = authority.lastIndexOf(':');
        if (colon > authority.lastIndexOf(']')) {
            host = authority.substring(0, colon);
            port = port(authority.substring(colon + 1));
            if (port < 0) {
                return null;
            }
        }
        if (!HOST.matcher(host).matches()) {
            return null;
        }
        return new WebOrigin(scheme, host, port);
    }

    /** scheme://host:port, the same for every spelling of one origin. */
    public String canonical() {
        return scheme + "://" + host + ":" + port;
    }

    /** Whether a request with this Host header comes from a page of this origin. */
    public boolean isServedBy(String hostHeader) {
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        boolean hasPort = colon > h.lastIndexOf(']');
        int hostPort = hasPort ? port(h.substring(colon + 1)) : defaultPort(scheme);
        return port != -1 && hostPort != -1 && port == hostPort && host.equals(hasPort ? h.substring(0, colon) : h);
    }

    private static int port(String digits) {
        if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        int p = Integer.parseInt(digits);
        return p >= 1 && p <= 65535 ? p : -1;
    }

    private static int defaultPort(String scheme) {
        return switch (scheme) {
            case "http", "ws" -> 80;
            case "https", "wss" -> 443;
            default -> -1;
        };
    }
}
