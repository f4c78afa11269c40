package dev.tether.cli;

import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine;

/** Accepts what an operator types: ws(s):// or http(s):// URLs, with /ws added when no path is given. */
final class Urls {
    private Urls() {
    }

    static URI webSocket(CommandLine cmd, String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new CommandLine.ParameterException(cmd, "URL '" + url + "' is not a URL: " + e.getReason());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
        String ws = switch (scheme) {
            case "ws", "http" -> "ws";
            case "wss", "https" -> "wss";
            default -> throw new CommandLine.ParameterException(cmd,
                    "URL '" + url + "' must start with ws://, wss://, http:// or https://");
        };
        if (u.getHost() == null) {
            throw new CommandLine.ParameterException(cmd, "URL '" + url + "' has no host");
        }
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/") ? "/ws" : u.getRawPath();
        return URI.create(ws + "://" + u.getRawAuthority() + path + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));
    }
}
