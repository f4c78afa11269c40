package dev.tether.server.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP connection that sends nothing for {@code http-idle-timeout}, or takes longer than
 * that to send one whole request (counted from the read that brought its first bytes, so a client
 * trickling a byte now and then cannot hold a socket either). Removed when the connection upgrades
 * to a WebSocket, where the heartbeat takes over.
 */
final class HttpIdleCloser extends IdleStateHandler {
    static final String NAME = "http-idle";

    private final long timeoutMillis;
    /** Event loop only: the deadline of the request being received, or null between requests. */
    private ScheduledFuture<?> requestDeadline;

    HttpIdleCloser(long timeoutMillis) {
        super(0, 0, timeoutMillis, TimeUnit.MILLISECONDS);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (requestDeadline == null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            requestDeadline = ctx.executor().schedule(() -> {
                requestDeadline = null;
                ctx.close();
            }, timeoutMillis, TimeUnit.MILLISECONDS);
        }
        super.channelRead(ctx, msg);
    }

    /** The router has a whole request: its deadline is met. Event loop. */
    void requestReceived() {
        if (requestDeadline != null) {
            requestDeadline.cancel(false);
            requestDeadline = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        requestReceived();
        super.handlerRemoved(ctx);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        ctx.close();
    }
}
