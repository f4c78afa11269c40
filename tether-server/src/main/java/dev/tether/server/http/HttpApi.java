package dev.tether.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.KeyLimitException;
import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.HistoryPage;
import dev.tether.server.hub.Hub;
import dev.tether.server.protocol.ChannelNames;
import dev.tether.server.protocol.Fields;
import dev.tether.server.protocol.Json;
import dev.tether.server.protocol.ProtocolException;
import dev.tether.server.protocol.StreamPosition;
import dev.tether.server.transport.OriginPolicy;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The plain HTTP endpoints of PROTOCOL.md section 13 (everything but the WebSocket upgrade). */
public final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private static final int DEFAULT_HISTORY_LIMIT = 100;
    private static final int MAX_HISTORY_LIMIT = 1000;
    private static final String BEARER = "Bearer ";
    /** The last response (being) written on a connection, so the next one can wait for it. */
    private static final AttributeKey<CompletableFuture<Void>> LAST_RESPONSE = AttributeKey.valueOf("tether.http.lastResponse");

    private final Hub hub;
    private final TetherConfig config;
    private final BooleanSupplier ready;
    private final StaticFiles files;
    /** The WebSocket's origin rule, applied to /api/* too: other sites' pages cannot publish. */
    private final OriginPolicy origins;

    public HttpApi(Hub hub, TetherConfig config, BooleanSupplier ready) {
        this.hub = hub;
        this.config = config;
        this.ready = ready;
        this.files = new StaticFiles(config.staticDir());
        this.origins = new OriginPolicy(config.allowedOrigins());
    }

    /** Answers {@code req}; the caller keeps ownership of the request. */
    public void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        CompletableFuture<FullHttpResponse> response;
        try {
            response = route(req, path, uri.parameters());
        } catch (BadRequest e) {
            FullHttpResponse error = HttpResponses.error(e.status, e.getMessage());
            if (e.headerName != null) {
                error.headers().set(e.headerName, e.headerValue);
            }
            response = CompletableFuture.completedFuture(error);
        } catch (IOException | RuntimeException e) {
            log.warn("HTTP {} {} failed", req.method(), path, e);
            response = CompletableFuture.completedFuture(HttpResponses.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error"));
        }
        HttpMethod method = req.method();
        response.whenComplete((r, err) -> {
            if (err != null) {
                log.warn("HTTP {} {} failed", method, path, err);
            }
        });
        inOrder(ctx, response, HttpUtil.isKeepAlive(req));
    }

    /**
     * Writes {@code response} once it is ready and every response before it on this connection is
     * written: pipelined requests are answered in order (RFC 9112 section 9.3.2) although a publish
     * is answered only when storage confirms it. A response that failed becomes a 503.
     */
    private static void inOrder(ChannelHandlerContext ctx, CompletableFuture<FullHttpResponse> response, boolean keepAlive) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        CompletableFuture<Void> previous = ctx.channel().attr(LAST_RESPONSE).getAndSet(written);
        CompletableFuture<FullHttpResponse> turn = previous == null ? response : previous.thenCompose(v -> response);
        turn.whenComplete((r, err) -> {
            Runnable write = () -> {
                FullHttpResponse out = err == null ? r
                        : HttpResponses.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "not stored, retry with the same key");
                HttpUtil.setKeepAlive(out, keepAlive);
                ctx.writeAndFlush(out).addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
                written.complete(null);
            };
            try {
                ctx.executor().execute(write);
            } catch (RejectedExecutionException shuttingDown) {
                if (r != null) {
                    r.release();
                }
                written.complete(null);
            }
        });
    }


    /**
     * Writes a response the transport produced itself (a refusal) after every response before it on
     * this connection, so that pipelined requests are still answered in order (RFC 9112 9.3.2);
     * with {@code close}, says so and closes after it. Event loop.
     */
    public static void writeInOrder(ChannelHandlerContext ctx, FullHttpResponse response, boolean close) {
        if (close) {
            // Nothing after this answer will be answered: read no more, and run none of the requests
            // already read behind it (a publish would be stored, its client never told, and retried).
            ctx.channel().attr(CLOSING).set(Boolean.TRUE);
            ctx.channel().config().setAutoRead(false);
        }
        inOrder(ctx, CompletableFuture.completedFuture(response), !close);
    }

    private static final AttributeKey<Boolean> CLOSING = AttributeKey.valueOf("tether.http.closing");

    /** Whether this connection closes after an answer already queued: later requests are not run. */
    public static boolean closing(ChannelHandlerContext ctx) {
        return Boolean.TRUE.equals(ctx.channel().attr(CLOSING).get());
    }

    /** The write of the last response on this connection, if one is still to be written; else null. */
    public static CompletableFuture<Void> pendingResponse(ChannelHandlerContext ctx) {
        CompletableFuture<Void> last = ctx.channel().attr(LAST_RESPONSE).get();
        return last == null || last.isDone() ? null : last;
    }

    private CompletableFuture<FullHttpResponse> route(FullHttpRequest req, String path, Map<String, List<String>> q)
            throws IOException {
        switch (path) {
            case "/healthz" -> {
                requireMethod(req, HttpMethod.GET);
                return done(HttpResponses.json(HttpResponseStatus.OK, g -> {
                    g.writeStartObject();
                    g.writeStringField("status", "ok");
                    g.writeEndObject();
                }));
            }
            case "/readyz" -> {
                requireMethod(req, HttpMethod.GET);
                boolean r = ready.getAsBoolean();
                return done(HttpResponses.json(r ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, g -> {
                    g.writeStartObject();
                    g.writeBooleanField("ready", r);
                    g.writeEndObject();
                }));
            }
            case "/metrics" -> {
                requireMethod(req, HttpMethod.GET);
                return done(HttpResponses.bytes(HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
                        hub.metrics().scrape().getBytes(StandardCharsets.UTF_8)));
            }
            default -> {
            }
        }
        if (path.startsWith("/api/")) {
            // A browser on another site can send a simple POST without a preflight: without an
            // api-key, nothing else would stop its page from publishing (or reading history).
            String origin = req.headers().get(HttpHeaderNames.ORIGIN);
            if (!origins.allows(origin, req.headers().get(HttpHeaderNames.HOST))) {
                throw new BadRequest(HttpResponseStatus.FORBIDDEN, "origin " + origin + " is not allowed (allowed-origins)");
            }
            authorize(req);
            return switch (path) {
                case "/api/publish" -> publish(req);
                case "/api/history" -> done(history(req, q));
                case "/api/presence" -> done(presence(req, q));
                case "/api/channels" -> done(channels(req));
                case "/api/stats" -> done(stats(req));
                default -> throw new BadRequest(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path);
            };
        }
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
            throw new BadRequest(HttpResponseStatus.METHOD_NOT_ALLOWED, req.method() + " is not allowed on " + path)
                    .with(HttpHeaderNames.ALLOW, "GET, HEAD");
        }
        FullHttpResponse file = files.get(path);
        if (file == null) {
            throw new BadRequest(HttpResponseStatus.NOT_FOUND, "not found: " + path);
        }
        return done(file);
    }

    private static CompletableFuture<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    private void authorize(FullHttpRequest req) {
        if (config.apiKey() == null) {
            return;
        }
        // The auth scheme is case-insensitive (RFC 9110 section 11.1); the key itself is compared in constant time.
        String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        byte[] given = auth != null && auth.regionMatches(true, 0, BEARER, 0, BEARER.length())
                ? auth.substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8) : null;
        if (given == null || !MessageDigest.isEqual(given, config.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new BadRequest(HttpResponseStatus.UNAUTHORIZED, "missing or wrong 'Authorization: Bearer <api key>'")
                    .with(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
    }

    private static void requireMethod(FullHttpRequest req, HttpMethod method) {
        if (req.method() != method && !(method == HttpMethod.GET && req.method() == HttpMethod.HEAD)) {
            throw new BadRequest(HttpResponseStatus.METHOD_NOT_ALLOWED, "use " + method + " for " + new QueryStringDecoder(req.uri()).path())
                    .with(HttpHeaderNames.ALLOW, method == HttpMethod.GET ? "GET, HEAD" : method.name());
        }
    }

    private CompletableFuture<FullHttpResponse> publish(FullHttpRequest req) {
        requireMethod(req, HttpMethod.POST);
        if (!ByteBufUtil.isText(req.content(), StandardCharsets.UTF_8)) {
            // Checked here, not left to the parser: data is stored as the bytes it arrived in and
            // pushed in text frames, which must be UTF-8 (RFC 6455 8.1).
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "body is not valid UTF-8");
        }
        JsonNode body;
        try {
            byte[] bytes = ByteBufUtil.getBytes(req.content());
            body = Json.readMessage(bytes, 0, bytes.length, "data");
        } catch (JsonProcessingException e) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "body could not be read");
        }
        if (body == null || !body.isObject()) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "body must be a JSON object {\"channel\",\"data\",\"key\"?}");
        }
        String channel;
        String key;
        try {
            channel = Fields.channel(body);
            key = Fields.optionalString(body, "key", Fields.MAX_KEY_CHARS);
        } catch (ProtocolException e) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
        if (!body.has("data")) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "field 'data' is missing");
        }
        byte[] data;
        try {
            data = Json.rawBytes(body.get("data"));
        } catch (JsonProcessingException e) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "field 'data' cannot be encoded");
        }
        if (data.length > config.maxPublicationBytes()) {
            throw new BadRequest(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    "data is " + data.length + " bytes, more than " + config.maxPublicationBytes());
        }
        return hub.publish(channel, new AppendRequest(data, key, null, null)).handle((r, err) -> {
            if (Hub.unwrap(err) instanceof KeyLimitException full) {
                // Refused before storing anything: the same request may succeed after Retry-After.
                FullHttpResponse busy = HttpResponses.error(HttpResponseStatus.TOO_MANY_REQUESTS, full.getMessage());
                busy.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString((full.retryAfterMillis() + 999) / 1000));
                return busy;
            }
            if (err != null) {
                throw err instanceof CompletionException ce ? ce : new CompletionException(err);
            }
            return HttpResponses.json(HttpResponseStatus.OK, g -> {
                g.writeStartObject();
                g.writeNumberField("offset", r.offset());
                g.writeStringField("epoch", r.epoch());
                g.writeBooleanField("duplicate", r.duplicate());
                g.writeEndObject();
            });
        });
    }

    private FullHttpResponse history(FullHttpRequest req, Map<String, List<String>> q) {
        requireMethod(req, HttpMethod.GET);
        String channel = channelParam(q);
        String sinceParam = param(q, "since");
        String epoch = param(q, "epoch");
        StreamPosition since = null;
        if (sinceParam != null || epoch != null) {
            if (sinceParam == null || epoch == null) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "'since' and 'epoch' must be given together");
            }
            since = new StreamPosition(number(sinceParam, "since", 0, Long.MAX_VALUE), epoch);
        }
        String limitParam = param(q, "limit");
        int limit = limitParam == null ? DEFAULT_HISTORY_LIMIT : (int) number(limitParam, "limit", 1, MAX_HISTORY_LIMIT);
        HistoryPage page = hub.history(channel, since, limit);
        return HttpResponses.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            page.writeFields(g);
            g.writeEndObject();
        });
    }

    private FullHttpResponse presence(FullHttpRequest req, Map<String, List<String>> q) {
        requireMethod(req, HttpMethod.GET);
        String channel = channelParam(q);
        var clients = hub.presence().list(channel);
        return HttpResponses.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            Hub.writePresence(g, clients);
            g.writeEndObject();
        });
    }

    /** Everything the admin page shows, in one JSON object (counters are totals; the page derives rates). */
    private FullHttpResponse stats(FullHttpRequest req) {
        requireMethod(req, HttpMethod.GET);
        var m = hub.metrics();
        return HttpResponses.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeStringField("node", config.nodeName());
            g.writeNumberField("uptimeMs", hub.uptimeMillis());
            g.writeNumberField("connections", hub.connectionCount());
            g.writeNumberField("sessions", hub.sessionCount());
            g.writeNumberField("sessionsDetached", hub.detachedSessionCount());
            g.writeNumberField("subscriptions", hub.subscriptionCount());
            writeChannels(g);
            g.writeObjectFieldStart("counters");
            g.writeNumberField("publications", m.publications.sum());
            g.writeNumberField("deliveries", m.deliveries.sum());
            g.writeNumberField("acks", m.acks.sum());
            g.writeNumberField("resumes", m.resumes.sum());
            g.writeNumberField("recoveriesOk", m.recoveriesOk.sum());
            g.writeNumberField("recoveriesFailed", m.recoveriesFailed.sum());
            g.writeNumberField("slowConsumerEvents", m.slowConsumerEvents.sum());
            g.writeNumberField("bytesIn", m.bytesIn.sum());
            g.writeNumberField("bytesOut", m.bytesOut.sum());
            g.writeEndObject();
            g.writeObjectFieldStart("disconnects");
            for (var e : m.disconnectsByCode().entrySet()) {
                g.writeNumberField(Integer.toString(e.getKey()), e.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** {@code "channels":[{"channel","subscribers","offset"}]} for /api/channels and /api/stats. */
    private void writeChannels(com.fasterxml.jackson.core.JsonGenerator g) throws IOException {
        Map<String, Integer> subs = hub.channelSubscribers();
        Map<String, Long> tops = hub.broker().channels();
        g.writeArrayFieldStart("channels");
        for (var e : subs.entrySet()) {
            g.writeStartObject();
            g.writeStringField("channel", e.getKey());
            g.writeNumberField("subscribers", e.getValue());
            g.writeNumberField("offset", tops.getOrDefault(e.getKey(), 0L));
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private FullHttpResponse channels(FullHttpRequest req) {
        requireMethod(req, HttpMethod.GET);
        return HttpResponses.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            writeChannels(g);
            g.writeEndObject();
        });
    }

    private static String param(Map<String, List<String>> q, String name) {
        List<String> v = q.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "query parameter '" + name + "' is given more than once");
        }
        return v.get(0);
    }

    private static String channelParam(Map<String, List<String>> q) {
        String channel = param(q, "channel");
        if (channel == null) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "query parameter 'channel' is missing");
        }
        if (!ChannelNames.isValid(channel)) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "query parameter 'channel' is not a valid channel name");
        }
        return channel;
    }

    private static long number(String s, String name, long min, long max) {
        try {
            long v = Long.parseLong(s);
            if (v < min || v > max) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST,
                    "query parameter '" + name + "' must be an integer from " + min + " to " + max + ", got '" + s + "'");
        }
    }

    /** A request we refuse, with its status. */
    static final class BadRequest extends RuntimeException {
        final HttpResponseStatus status;
        /** One response header the status calls for (Allow with 405, WWW-Authenticate with 401), or null. */
        CharSequence headerName;
        String headerValue;

        BadRequest(HttpResponseStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        BadRequest with(CharSequence name, String value) {
            this.headerName = name;
            this.headerValue = value;
            return this;
        }
    }
}
