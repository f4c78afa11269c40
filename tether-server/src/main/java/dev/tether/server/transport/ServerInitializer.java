package dev.tether.server.transport;

import dev.tether.server.config.TetherConfig;
import dev.tether.server.hub.Hub;
import dev.tether.server.http.HttpApi;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
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

    ServerInitializer(Hub hub, TetherConfig config, HttpApi api, BooleanSupplier draining) {
        this.hub = hub;
        this.config = config;
        this.api = api;
        this.origins = new OriginPolicy(config.allowedOrigins());
        this.draining = draining;
        // An API publish body holds the data plus channel, key and JSON punctuation.
        this.maxHttpBodyBytes = config.maxPublicationBytes() + 1024;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline()
                .addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, MAX_CHUNK_BYTES))
                .addLast("http-aggregator", new HttpObjectAggregator(maxHttpBodyBytes))
                .addLast("router", new HttpRouter(hub, config, api, origins, draining));
    }
}
