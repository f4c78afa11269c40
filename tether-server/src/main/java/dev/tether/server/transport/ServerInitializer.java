package dev.tether.server.transport;

import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.Hub;
import dev.tether.server.http.HttpApi;
import dev.tether.server.http.HttpResponses;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import java.util.function.BooleanSupplier;

/** The whole pipeline of a new connection, one handler per concern. */
final class ServerInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_INITIAL_LINE = 4096;
    private static final int MAX_HEADER_BYTES = 8192;
    private static final int MAX_CHUNK_BYTES = 8192;

    private final Hub hub;
    private final TetherConfig config;
    private final HttpApi api;
    private final OriginPolicy origins;
    private final BooleanSupplier draining;
    private final int maxHttpBodyBytes;
    private final HttpRouter.Upgrades upgrades;

    ServerInitializer(Hub hub, TetherConfig config, HttpApi api, BooleanSupplier draining) {
        this.hub = hub;
        this.config = config;
        this.api = api;
        this.origins = new OriginPolicy(config.allowedOrigins());
        this.draining = draining;
        // An API publish body holds the data plus channel, key and JSON punctuation.
        this.maxHttpBodyBytes = (int) Math.min(Integer.MAX_VALUE, config.maxPublicationBytes() + 1024L);
        this.upgrades = HttpRouter.Upgrades.of(config);
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline()
                .addLast(HttpIdleCloser.NAME, new HttpIdleCloser(config.httpIdleTimeout().toMillis()))
                .addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, MAX_CHUNK_BYTES))
                .addLast("http-aggregator", new JsonErrorAggregator(maxHttpBodyBytes))
                .addLast("router", new HttpRouter(hub, config, api, origins, draining, upgrades));
    }

    /**
     * Netty's aggregator answers a too-large body with an empty 413; this one says why, in the same
     * JSON error shape as every other refusal. Connection handling is Netty's: close when the body
     * is already (partly) here or the client does not keep the connection alive, else keep it and
     * let the aggregator discard the body.
     */
    static final class JsonErrorAggregator extends HttpObjectAggregator {
        JsonErrorAggregator(int maxContentLength) {
            super(maxContentLength);
        }

        /**
         * Netty answers {@code Expect: 100-continue} with a body over the limit (413) or an unknown
         * expectation (417) with an empty response; these say why, as JSON, with Netty's status and
         * connection handling.
         */
        @Override
        protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
            Object plain = super.newContinueResponse(start, maxContentLength, pipeline);
            if (!(plain instanceof FullHttpResponse refused) || refused.status().code() < 400) {
                return plain;
            }
            requestAnswered(pipeline); // the router never sees this request: its deadline is over
            String why = refused.status().code() == 413 ? "request body is larger than " + maxContentLength + " bytes"
                    : "unsupported Expect header (only 100-continue is supported)";
            FullHttpResponse json = HttpResponses.error(refused.status(), why);
            String connection = refused.headers().get(HttpHeaderNames.CONNECTION);
            if (connection != null) {
                json.headers().set(HttpHeaderNames.CONNECTION, connection);
            }
            refused.release();
            return json;
        }

        private static void requestAnswered(ChannelPipeline pipeline) {
            if (pipeline.get(HttpIdleCloser.NAME) instanceof HttpIdleCloser closer) {
                closer.requestReceived();
            }
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
            if (!(oversized instanceof HttpRequest)) {
                super.handleOversizedMessage(ctx, oversized);
                return;
            }
            requestAnswered(ctx.pipeline()); // the router never sees this request: its deadline is over
            FullHttpResponse r = HttpResponses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    "request body is larger than " + maxContentLength() + " bytes");
            // In order after any response still owed to an earlier pipelined request.
            HttpApi.writeInOrder(ctx, r, oversized instanceof FullHttpMessage
                    || !HttpUtil.is100ContinueExpected(oversized) && !HttpUtil.isKeepAlive(oversized));
        }
    }
}
