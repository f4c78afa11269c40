package dev.tether.server.transport;

import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.Connection;
import dev.tether.server.hub.Hub;
import dev.tether.server.http.HttpApi;
import dev.tether.server.http.HttpResponses;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler after the HTTP codec: answers plain HTTP requests, checks WebSocket upgrades
 * (method, Origin, draining) and, for an accepted upgrade, installs the WebSocket handlers and
 * removes itself, so nothing HTTP stays in a WebSocket connection's pipeline.
 */
final class HttpRouter extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(HttpRouter.class);
    static final String SUBPROTOCOL = "tether.v1.json";
    private static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    private static final String WEBSOCKET_VERSION = "13";

    private final Hub hub;
    private final TetherConfig config;
    private final HttpApi api;
    private final OriginPolicy origins;
    private final BooleanSupplier draining;
    private final Upgrades upgrades;

    HttpRouter(Hub hub, TetherConfig config, HttpApi api, OriginPolicy origins, BooleanSupplier draining, Upgrades upgrades) {
        super(false);
        this.hub = hub;
        this.config = config;
        this.api = api;
        this.origins = origins;
        this.draining = draining;
        this.upgrades = upgrades;
    }

    /** The WebSocket settings of the two endpoints, built once per server and shared by every connection. */
    record Upgrades(WebSocketServerProtocolConfig tether, WebSocketServerProtocolConfig echo) {
        static Upgrades of(TetherConfig config) {
            return new Upgrades(protocolConfig(config, config.wsPath(), true),
                    config.echoPath() == null ? null : protocolConfig(config, config.echoPath(), false));
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (ctx.pipeline().get(HttpIdleCloser.NAME) instanceof HttpIdleCloser closer) {
            closer.requestReceived();
        }
        if (HttpApi.closing(ctx)) {
            req.release(); // read behind a refusal that closes the connection: never answered, never run
            return;
        }
        boolean passed = false;
        try {
            if (req.decoderResult().isFailure()) {
                Throwable cause = req.decoderResult().cause();
                refuse(ctx, HttpResponses.error(HttpResponseStatus.BAD_REQUEST,
                        "malformed HTTP request: " + (cause == null ? "unknown" : cause.getMessage())));
                return;
            }
            String path;
            try {
                QueryStringDecoder uri = new QueryStringDecoder(req.uri());
                path = uri.path();
                uri.parameters(); // decoded here once, so that a bad query is the client's error, not the API's
            } catch (IllegalArgumentException e) {
                refuse(ctx, HttpResponses.error(HttpResponseStatus.BAD_REQUEST, "malformed request target: " + e.getMessage()));
                return;
            }
            boolean ws = path.equals(config.wsPath());
            boolean echo = config.echoPath() != null && path.equals(config.echoPath());
            if (!ws && !echo) {
                api.handle(ctx, req);
                return;
            }
            if (req.method() != HttpMethod.GET) {
                FullHttpResponse r = HttpResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET with a WebSocket upgrade on " + path);
                r.headers().set(HttpHeaderNames.ALLOW, "GET");
                refuse(ctx, r);
                return;
            }
            if (!req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
                FullHttpResponse r = HttpResponses.error(HttpResponseStatus.UPGRADE_REQUIRED,
                        path + " is a WebSocket endpoint: send Upgrade: websocket");
                r.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET); // RFC 9110 15.5.22
                refuse(ctx, r);
                return;
            }
            if (!WEBSOCKET_VERSION.equals(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
                // Only RFC 6455: without this check Netty would also complete draft (hixie-75/76, hybi-07/08)
                // handshakes, which have none of the framing, masking and close rules the protocol relies on.
                FullHttpResponse r = HttpResponses.error(HttpResponseStatus.UPGRADE_REQUIRED,
                        "only WebSocket version " + WEBSOCKET_VERSION + " (RFC 6455) is supported");
                r.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, WEBSOCKET_VERSION);
                r.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
                refuse(ctx, r);
                return;
            }
            if (!req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                    || req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY) == null) {
                // Else Netty's handshaker answers a plain-text 400 (protocol.md J: errors are JSON).
                refuse(ctx, HttpResponses.error(HttpResponseStatus.BAD_REQUEST,
                        "a WebSocket handshake needs Connection: Upgrade and Sec-WebSocket-Key (RFC 6455 4.1)"));
                return;
            }
            String origin = req.headers().get(HttpHeaderNames.ORIGIN);
            if (!origins.allows(origin, req.headers().get(HttpHeaderNames.HOST))) {
                log.debug("refused WebSocket from origin {} ({})", origin, ctx.channel().remoteAddress());
                long refused = hub.refusedOriginWarning.count(1);
                if (refused > 0) {
                    log.warn("{} WebSocket upgrade(s) refused with 403 for their Origin since the last warning, the latest"
                            + " from origin {} ({}). If those are your own pages, add their origin to allowed-origins."
                            + " Logged at most once a minute.", refused, origin, ctx.channel().remoteAddress());
                }
                refuse(ctx, HttpResponses.error(HttpResponseStatus.FORBIDDEN, "origin " + origin + " is not allowed"));
                return;
            }
            if (draining.getAsBoolean()) {
                refuse(ctx, HttpResponses.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "server is shutting down"));
                return;
            }
            // Matched on the decoded path (/w%73 is /ws); Netty's handshaker compares the raw target
            // and would pass an unmatched request on unanswered, with the idle closer already gone.
            req.setUri(path);
            if (HttpApi.pendingResponse(ctx) != null) {
                // Pipelined behind a request still being answered: its 101 would overtake that answer.
                // Browsers never do this; refusing keeps the order (and nothing waits half-upgraded).
                refuse(ctx, HttpResponses.error(HttpResponseStatus.BAD_REQUEST,
                        "a WebSocket upgrade must not be pipelined behind other requests"));
                return;
            }
            installWebSocket(ctx.pipeline(), ws);
            ctx.pipeline().remove(this);
            passed = true;
            ctx.fireChannelRead(req);
        } finally {
            if (!passed) {
                req.release();
            }
        }
    }

    private static WebSocketServerProtocolConfig protocolConfig(TetherConfig config, String path, boolean tether) {
        WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(config.maxFrameBytes())
                .allowExtensions(false)
                .withUTF8Validator(!tether) // a Tether connection checks whole messages itself
                .closeOnProtocolViolation(true)
                .build();
        return WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(path)
                .subprotocols(tether ? SUBPROTOCOL : null)
                .checkStartsWith(true)
                .handleCloseFrames(false)
                .dropPongFrames(true)
                .handshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MILLIS)
                .forceCloseTimeoutMillis(Connection.CLOSE_GRACE_MILLIS_PUBLIC)
                .decoderConfig(decoder)
                .build();
    }

    /**
     * Installs the handshake and frame codec. A Tether connection gets no frame aggregator: the
     * connection reassembles fragments itself and, once the handshake is done, also removes the
     * protocol handler, so its pipeline is the frame codec, the UTF-8 check and {@link Connection}.
     */
    private void installWebSocket(ChannelPipeline p, boolean tether) {
        if (p.get(HttpIdleCloser.NAME) != null) {
            p.remove(HttpIdleCloser.NAME);
        }
        String me = p.context(this).name();
        if (tether) {
            p.addAfter(me, "ws", new WebSocketServerProtocolHandler(upgrades.tether()));
            p.addAfter("ws", "tether", new Connection(hub));
        } else {
            p.addAfter(me, "ws", new WebSocketServerProtocolHandler(upgrades.echo()));
            p.addAfter("ws", "ws-aggregator", new WebSocketFrameAggregator(config.maxFrameBytes()));
            p.addAfter("ws-aggregator", "echo", new EchoHandler());
        }
    }

    /** Answers and closes, after any response still owed to an earlier pipelined request. */
    private static void refuse(ChannelHandlerContext ctx, FullHttpResponse response) {
        HttpApi.writeInOrder(ctx, response, true);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
