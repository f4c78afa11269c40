package dev.tether.server.http;

import dev.tether.server.protocol.Json;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Small builders for the server's HTTP replies; errors are JSON {@code {"error":{"status","message"}}}. */
public final class HttpResponses {
    private HttpResponses() {
    }

    public static FullHttpResponse bytes(HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }

    public static FullHttpResponse text(HttpResponseStatus status, String body) {
        return bytes(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    public static FullHttpResponse json(HttpResponseStatus status, Json.JsonBody body) {
        return bytes(status, "application/json", Json.writeBytes(body));
    }

    public static FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeNumberField("status", status.code());
            g.writeStringField("message", message);
            g.writeEndObject();
            g.writeEndObject();
        });
    }
}
