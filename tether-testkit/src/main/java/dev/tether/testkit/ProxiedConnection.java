package dev.tether.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection through a {@link FaultProxy} and its connection to the target. Both
 * channels share one event loop, which owns all of this object's channel state.
 *
 * <p>Backpressure: the client side reads nothing until the target side is connected, and each
 * side stops reading while the other side's outbound buffer is above its high-water mark.
 */
final class ProxiedConnection {

    private static final Logger log = LoggerFactory.getLogger(ProxiedConnection.class);

    /** Order of acceptance, so a seeded {@code Random} picks the same victim every run. */
    final long sequence;
    private final Channel inbound;
    /** Set by {@link #start}; event loop only. */
    private Channel outbound;
    private final AtomicBoolean cut = new AtomicBoolean();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    ProxiedConnection(long sequence, Channel inbound) {
        this.sequence = sequence;
        this.inbound = inbound;
    }

    /**
     * Event loop only. Connects to {@code target}, then relays both ways. {@code onEnd} runs once
     * both channels are closed, before {@link #ended()} completes.
     */
    void start(InetSocketAddress target, Runnable onEnd) {
        inbound.pipeline().addLast(new Relay(true));
        outbound = new Bootstrap()
                .group(inbound.eventLoop())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new Relay(false))
                .connect(target)
                .addListener((ChannelFutureListener) f -> {
                    // May run inline, before connect() returns: use f.channel(), not the field.
                    if (f.isSuccess()) {
                        inbound.config().setAutoRead(true);
                        f.channel().config().setAutoRead(true);
                    } else {
                        log.debug("proxy could not reach {}: {}", target, f.cause().toString());
                    }
                })
                .channel();
        ChannelFutureListener endOne = f -> {
            // Whichever side ends first, the other follows once its pending bytes are written.
            closeAfterFlush(f.channel() == inbound ? outbound : inbound);
            if (!inbound.isOpen() && !outbound.isOpen() && !ended.isDone()) {
                onEnd.run();
                ended.complete(null);
            }
        };
        inbound.closeFuture().addListener(endOne);
        outbound.closeFuture().addListener(endOne);
    }

    /**
     * Resets both sides (RST, pending data discarded). Returns false if this connection was
     * already cut or had ended; callers wait on {@link #ended()}.
     */
    boolean cut() {
        if (ended.isDone() || !cut.compareAndSet(false, true)) {
            return false;
        }
        inbound.eventLoop().execute(() -> {
            reset(inbound);
            if (outbound != null) {
                reset(outbound);
            }
        });
        return true;
    }

    /** Completes once both sides are closed. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    private static void reset(Channel channel) {
        if (!channel.isOpen()) {
            return;
        }
        try {
            // Linger 0 makes close() send RST instead of FIN.
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (ChannelException e) {
            log.debug("could not set SO_LINGER on {}, closing with FIN", channel);
        }
        channel.close();
    }

    private static void closeAfterFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "ProxiedConnection#" + sequence + inbound;
    }

    /** Copies bytes from its channel to the peer; event loop only. */
    private final class Relay extends ChannelInboundHandlerAdapter {

        private final boolean fromClient;

        Relay(boolean fromClient) {
            this.fromClient = fromClient;
        }

        private Channel peer() {
            return fromClient ? outbound : inbound;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel peer = peer();
            if (peer == null || !peer.isActive()) {
                ReferenceCountUtil.release(msg);
                return;
            }
            peer.write(msg).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Channel peer = peer();
            if (peer != null) {
                peer.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Channel peer = peer();
            if (ctx.channel().isWritable() && peer != null && peer.isActive()) {
                peer.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{} failed: {}", ProxiedConnection.this, cause.toString());
            ctx.close();
        }
    }
}
