package dev.tether.server.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP connection that sends nothing (or only half a request) for {@code http-idle-timeout},
 * so a slow or silent client cannot hold a socket forever. Removed when the connection upgrades to
 * a WebSocket, where the heartbeat takes over.
 */
final class HttpIdleCloser extends IdleStateHandler {
    static final String NAME = "http-idle";

    HttpIdleCloser(long timeoutMillis) {
        super(0, 0, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        ctx.close();
    }
}
