package dev.tether.server.e2e;

import dev.tether.server.TetherServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Plain HTTP for end-to-end tests: whatever bytes a test wants over a raw {@link Socket}, and
 * well-formed requests through {@link HttpClient}.
 */
final class RawHttp {
    /** A server that neither answers nor closes within this time is hanging: the read fails the test. */
    private static final int READ_TIMEOUT_MILLIS = 5000;
    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private RawHttp() {
    }

    /**
     * Sends {@code request} as is (then half-closes if asked) and returns everything the server
     * sent until it closed the connection, as ISO-8859-1 text; "" when it closed without a word.
     * A reset after the server's answer counts as the end. Throws if the server does neither
     * within 5 s.
     */
    static String exchange(TetherServer server, byte[] request, boolean halfClose) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), READ_TIMEOUT_MILLIS);
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
                if (halfClose) {
                    socket.shutdownOutput();
                }
            } catch (SocketException serverClosedEarly) {
                // the server refused before reading everything: what it said is still readable
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n = in.read(buf); n != -1; n = in.read(buf)) {
                    got.write(buf, 0, n);
                }
            } catch (SocketException reset) {
                // connection reset after (or instead of) an answer: the connection ended, no hang
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** {@link #exchange}, failing the test when the server hangs. */
    static String exchangeOrFail(TetherServer server, byte[] request, boolean halfClose) {
        try {
            return exchange(server, request, halfClose);
        } catch (IOException e) {
            throw new AssertionError("the server neither answered nor closed: " + e, e);
        }
    }

    static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** Requests no HTTP server can serve: each must get a 4xx and a closed connection. */
    static Stream<String> garbageRequests() {
        return Stream.of(
                "HELLO\r\n\r\n",
                "GET /" + "a".repeat(10 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\n" + ("X-More: " + "m".repeat(100) + "\r\n").repeat(150) + "\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
                "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                "POST /api/publish HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                UPGRADE + "Sec-WebSocket-Version: 13\r\n\r\n",
                "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u00fc\u0003\u0003 not really TLS\r\n\r\n");
    }

    private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    private static final String KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    /** Upgrades that Netty would complete with an obsolete draft protocol (hixie-75/76, hybi-07/08). */
    static Stream<String> draftWebSocketHandshakes() {
        return Stream.of(UPGRADE + KEY + "\r\n", UPGRADE + "Origin: http://x\r\n\r\n",
                UPGRADE + "Origin: http://x\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:ds[4U",
                UPGRADE + "Sec-WebSocket-Version: 8\r\n" + KEY + "\r\n", UPGRADE + "Sec-WebSocket-Version: 7\r\n" + KEY + "\r\n",
                UPGRADE + "Sec-WebSocket-Version: 14\r\n" + KEY + "\r\n");
    }

    /** Requests the client abandons half-way (it half-closes after sending them). */
    static Stream<byte[]> truncatedRequests() {
        byte[] noise = new byte[4096];
        new Random(42).nextBytes(noise);
        return Stream.of(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Unfinished: yes\r\n".getBytes(StandardCharsets.ISO_8859_1),
                "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: webs".getBytes(StandardCharsets.ISO_8859_1),
                "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"chan".getBytes(StandardCharsets.ISO_8859_1),
                noise);
    }

    static String exchange(TetherServer server, String request) throws IOException {
        return exchange(server, request.getBytes(StandardCharsets.ISO_8859_1), false);
    }

    /** The status line's code of a raw response, or -1 for none. */
    static int status(String rawResponse) {
        if (!rawResponse.startsWith("HTTP/1.1 ") || rawResponse.length() < 12) {
            return -1;
        }
        return Integer.parseInt(rawResponse.substring(9, 12));
    }

    static HttpResponse<String> get(TetherServer server, String pathAndQuery, String... headers) {
        return send(HttpRequest.newBuilder(java.net.URI.create(server.url() + pathAndQuery)).GET(), headers);
    }

    static HttpResponse<String> post(TetherServer server, String path, String body, String... headers) {
        return send(HttpRequest.newBuilder(java.net.URI.create(server.url() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json"), headers);
    }

    static HttpResponse<String> post(TetherServer server, String path, byte[] body, String... headers) {
        return send(HttpRequest.newBuilder(java.net.URI.create(server.url() + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "application/json"), headers);
    }

    static HttpResponse<String> method(TetherServer server, String method, String path, String... headers) {
        return send(HttpRequest.newBuilder(java.net.URI.create(server.url() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()), headers);
    }

    private static HttpResponse<String> send(HttpRequest.Builder b, String... headers) {
        if (headers.length > 0) {
            b.headers(headers);
        }
        try {
            return CLIENT.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
