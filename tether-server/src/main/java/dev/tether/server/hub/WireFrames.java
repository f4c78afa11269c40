package dev.tether.server.hub;

import dev.tether.server.broker.Publication;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;

/**
 * The bytes a {@link Connection} writes past Netty's frame encoder, and the byte checks it makes
 * before parsing. Stateless; the batch scratch array belongs to the calling event loop.
 */
final class WireFrames {
    /** Publications are batched into one frame up to this many bytes or publications. */
    static final int MAX_BATCH_BYTES = 64 * 1024;
    static final int MAX_BATCH_PUBLICATIONS = 128;
    static final byte[] PING = "{\"op\":\"ping\"}".getBytes(StandardCharsets.US_ASCII);
    /** The whole ping frame, written like a publication. */
    static final ByteBuf PING_FRAME = prebuiltFrame(PING);
    static final byte[] PONG = "{\"op\":\"pong\"}".getBytes(StandardCharsets.US_ASCII);
    /** Scratch space for one batch; each event loop has its own and clears it after use. */
    static final FastThreadLocal<Publication[]> BATCH = new FastThreadLocal<>() {
        @Override
        protected Publication[] initialValue() {
            return new Publication[MAX_BATCH_PUBLICATIONS];
        }
    };

    private WireFrames() {
    }

    /**
     * Writes {@code count} publications from {@code batch} as one text frame of {@code bytes}
     * payload bytes and clears the slots: one publication is a view of its stored frame; several
     * are a small header and views of each push with its stored newline (the last without).
     */
    static void writeBatch(ChannelHandlerContext ctx, Publication[] batch, int count, int bytes) {
        if (count == 1) {
            ctx.write(batch[0].frame(), ctx.voidPromise());
            batch[0] = null;
            return;
        }
        ByteBuf header = ctx.alloc().directBuffer(Publication.MAX_HEADER);
        Publication.writeTextHeader(header, bytes);
        ctx.write(header, ctx.voidPromise());
        int last = count - 1;
        for (int i = 0; i < last; i++) {
            ctx.write(batch[i].line(), ctx.voidPromise());
            batch[i] = null;
        }
        ctx.write(batch[last].push(), ctx.voidPromise());
        batch[last] = null;
    }

    /** True when the frame is exactly {@code {"op":"pong"}}, the form every client sends. */
    static boolean isPong(ByteBuf b) {
        if (b.readableBytes() != PONG.length) {
            return false;
        }
        int at = b.readerIndex();
        for (int i = 0; i < PONG.length; i++) {
            if (b.getByte(at + i) != PONG[i]) {
                return false;
            }
        }
        return true;
    }

    /** True when the line holds only spaces, tabs or {@code \r} (ignored, see protocol.md A). */
    static boolean isBlank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != ' ' && b[i] != '\r' && b[i] != '\t') {
                return false;
            }
        }
        return true;
    }

    /** A whole text frame holding {@code text}, never released. */
    static ByteBuf prebuiltFrame(byte[] text) {
        ByteBuf b = Unpooled.directBuffer(Publication.MAX_HEADER + text.length);
        Publication.writeTextHeader(b, text.length);
        b.writeBytes(text);
        return Unpooled.unreleasableBuffer(b.asReadOnly());
    }
}
