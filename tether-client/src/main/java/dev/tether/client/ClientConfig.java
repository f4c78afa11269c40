package dev.tether.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/** Everything {@link TetherClient.Builder} collected, checked. Immutable. */
record ClientConfig(
        URI url,
        SslContext ssl,
        Supplier<CompletionStage<String>> tokenSupplier,
        boolean refreshableToken,
        String name,
        ObjectNode info,
        Backoff backoff,
        Duration connectTimeout,
        Duration publishTimeout,
        OffsetStore offsetStore,
        ConnectionListener listener,
        Executor callbackExecutor,
        EventLoopGroup eventLoopGroup) {
}
