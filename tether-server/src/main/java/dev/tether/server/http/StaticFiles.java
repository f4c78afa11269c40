package dev.tether.server.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Serves the demo pages and the browser client: from {@code static-dir} if set, else from the jar. */
final class StaticFiles {
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "mjs", "text/javascript; charset=utf-8",
            "ts", "text/plain; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "json", "application/json",
            "png", "image/png",
            "svg", "image/svg+xml",
            "ico", "image/x-icon");
    private final Path dir;

    StaticFiles(Path dir) {
        // Normalized once, so that the containment check below compares like with like: with "www/../www"
        // or "./www" as configured, a normalized file path would never start with the configured one.
        this.dir = dir == null ? null : dir.toAbsolutePath().normalize();
    }

    /** The file for {@code path}, or null when there is none (or the path tries to leave the root). */
    FullHttpResponse get(String path) throws IOException {
        String p = path.equals("/") ? "/index.html" : path;
        if (p.contains("..") || p.contains("\\") || p.contains("//") || !p.startsWith("/") || p.contains("/.")) {
            return null; // also hidden files and directories (/.git/config, /.env): never served
        }
        String ext = p.substring(p.lastIndexOf('.') + 1);
        String type = TYPES.getOrDefault(ext, "application/octet-stream");
        byte[] body = read(p.substring(1));
        if (body == null && !p.contains(".")) {
            body = read(p.substring(1) + ".html");
            type = TYPES.get("html");
        }
        return body == null ? null : HttpResponses.bytes(HttpResponseStatus.OK, type, body);
    }

    private byte[] read(String relative) throws IOException {
        if (dir != null) {
            Path f;
            try {
                f = dir.resolve(relative).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                return null; // a NUL or another character no file name can hold: not found
            }
            if (!f.startsWith(dir) || !Files.isRegularFile(f)) {
                return null;
            }
            // A symbolic link inside the directory must not lead out of it.
            Path real = f.toRealPath();
            return real.startsWith(dir.toRealPath()) ? Files.readAllBytes(real) : null;
        }
        try (InputStream in = StaticFiles.class.getResourceAsStream("/static/" + relative)) {
            return in == null ? null : in.readAllBytes();
        }
    }
}
