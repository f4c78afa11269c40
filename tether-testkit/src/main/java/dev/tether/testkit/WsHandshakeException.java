package dev.tether.testkit;

import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * The WebSocket upgrade did not succeed. {@link #status()} is the HTTP status the server
 * answered with (for example 403 for a refused {@code Origin}), or {@link #NO_RESPONSE} when
 * no HTTP response arrived at all: connection refused, reset, closed, or timed out.
 */
public final class WsHandshakeException extends RuntimeException {

    /** {@link #status()} when the server sent no HTTP response. */
    public static final int NO_RESPONSE = -1;

    private final int status;
    private final transient HttpHeaders headers;
    private final String body;

    WsHandshakeException(String message, int status, HttpHeaders headers, String body, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.headers = headers == null ? EmptyHttpHeaders.INSTANCE : headers;
        this.body = body == null ? "" : body;
    }

    static WsHandshakeException noResponse(String message, Throwable cause) {
        return new WsHandshakeException(message, NO_RESPONSE, null, null, cause);
    }

    /** The HTTP status code of the refusal, or {@link #NO_RESPONSE}. */
    public int status() {
        return status;
    }

    /** The response headers (for example {@code Retry-After}); empty when there was no response. */
    public HttpHeaders headers() {
        return headers;
    }

    /** The response body decoded as UTF-8; empty when there was none. */
    public String body() {
        return body;
    }
}
