package dev.tether.bench.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Reads the server's WebSocket frames in place, replacing Netty's frame decoder after the
 * handshake: no frame objects, no payload copies, no UTF-8 validation. A text frame's payload is
 * handed to {@link BenchClient#onFrame} as a range of the socket's buffer; only a frame split
 * across reads is copied (into one cumulation buffer). Server frames are never masked.
 *
 * <p>This is what lets one generator core read more deliveries than one server core writes.
 */
final class FrameScanner extends ChannelInboundHandlerAdapter {
    private static final int OP_CONTINUATION = 0;
    private static final int OP_TEXT = 1;
    private static final int OP_CLOSE = 8;
    private final BenchClient client;
    private ByteBuf cumulation;

    FrameScanner(BenchClient client) {
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf buf = in;
        if (cumulation != null) {
            cumulation.writeBytes(in);
            in.release();
            buf = cumulation;
        }
        try {
            scan(ctx, buf);
        } finally {
            if (buf.isReadable()) {
                if (buf != cumulation) {
                    cumulation = ctx.alloc().heapBuffer(Math.max(4096, buf.readableBytes() * 2));
                    cumulation.writeBytes(buf);
                    buf.release();
                } else {
                    cumulation.discardReadBytes();
                }
            } else {
                buf.release();
                if (buf == cumulation) {
                    cumulation = null;
                }
            }
        }
        client.frameBatchDone();
    }

    private void scan(ChannelHandlerContext ctx, ByteBuf buf) {
        while (buf.readableBytes() >= 2) {
            int r = buf.readerIndex();
            int b0 = buf.getByte(r) & 0xff;
            int b1 = buf.getByte(r + 1) & 0x7f;
            int header = 2;
            long length = b1;
            if (b1 == 126) {
                if (buf.readableBytes() < 4) {
                    return;
                }
                length = buf.getUnsignedShort(r + 2);
                header = 4;
            } else if (b1 == 127) {
                if (buf.readableBytes() < 10) {
                    return;
                }
                length = buf.getLong(r + 2);
                header = 10;
            }
            if (buf.readableBytes() < header + length) {
                return;
            }
            int start = r + header;
            int end = (int) (start + length);
            int opcode = b0 & 0x0f;
            if (opcode == OP_TEXT || opcode == OP_CONTINUATION) {
                client.onFrame(buf, start, end);
            } else if (opcode == OP_CLOSE) {
                ctx.close();
            }
            buf.readerIndex(end);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }
}
