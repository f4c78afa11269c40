package dev.tether.server.hub;

import dev.tether.server.broker.Publication;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;
import java.lang.ref.Reference;
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
    private static final ByteBuf PING_BYTES = frameBytes(PING);
    /** The whole ping frame, written like a publication. */
    static final ByteBuf PING_FRAME = Unpooled.unreleasableBuffer(PING_BYTES.asReadOnly());
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
     * Batches up to this many payload bytes are copied into one pooled buffer; larger ones are
     * written as views of the stored pushes, where copying would cost more than it saves.
     */
    static final int COPY_BATCH_BYTES = 16 * 1024;

    /**
     * Writes {@code count} publications from {@code batch} as one text frame of {@code bytes}
     * payload bytes and clears the slots. One publication is its stored frame. Several are a
     * header and each push with a newline after all but the last: copied into one pooled buffer
     * when small (one object, one write call, nothing for the garbage collector), else written as
     * views of the stored bytes.
     */
    static void writeBatch(ChannelHandlerContext ctx, Publication[] batch, int count, int bytes) {
        if (count == 1) {
            Publication p = batch[0];
            batch[0] = null;
            int length = p.frameLength();
            int sent = writeNow(ctx.channel(), p.frameAddress(), length);
            Reference.reachabilityFence(p); // its memory was in use by the system call
            if (sent < length) {
                queueRest(ctx, p.frame(), sent);
            }
            return;
        }
        int last = count - 1;
        if (bytes <= COPY_BATCH_BYTES) {
            ByteBuf frame = ctx.alloc().directBuffer(Publication.textHeaderLength(bytes) + bytes);
            Publication.writeTextHeader(frame, bytes);
            for (int i = 0; i < count; i++) {
                Publication p = batch[i];
                batch[i] = null;
                p.copyPush(frame, i < last);
                Reference.reachabilityFence(p);
            }
            int length = frame.readableBytes();
            int sent = writeNow(ctx.channel(), frame.hasMemoryAddress() ? frame.memoryAddress() + frame.readerIndex() : 0, length);
            if (sent == length) {
                frame.release();
            } else {
                queueRest(ctx, frame, sent);
            }
            return;
        }
        ByteBuf header = ctx.alloc().directBuffer(Publication.MAX_HEADER);
        Publication.writeTextHeader(header, bytes);
        ctx.write(header, ctx.voidPromise());
        for (int i = 0; i < last; i++) {
            ctx.write(batch[i].line(), ctx.voidPromise());
            batch[i] = null;
        }
        ctx.write(batch[last].push(), ctx.voidPromise());
        batch[last] = null;
    }

    /** Writes the ping frame: straight to the socket when it can, else queued (flush after). */
    static void writePing(ChannelHandlerContext ctx) {
        int length = PING_BYTES.readableBytes();
        int sent = writeNow(ctx.channel(), PING_BYTES.hasMemoryAddress() ? PING_BYTES.memoryAddress() : 0, length);
        if (sent < length) {
            queueRest(ctx, PING_FRAME.duplicate(), sent);
        }
    }

    /** Queues through the pipeline what {@link #writeNow} did not send of {@code bytes} ({@code sent} ≤ 0: all). */
    private static void queueRest(ChannelHandlerContext ctx, ByteBuf bytes, int sent) {
        ctx.write(sent <= 0 ? bytes : bytes.skipBytes(sent), ctx.voidPromise());
    }

    /**
     * Hands {@code length} bytes at native {@code address} straight to the socket's write call,
     * skipping the pipeline and the outbound buffer, when that is the same as what Netty would do
     * with them: an epoll socket that is open and has nothing queued (so the order of bytes on the
     * wire is kept). Returns how many bytes the kernel took (the caller queues the rest through
     * the pipeline), or -1 when the direct path does not apply or the call failed; the caller then
     * writes all of it normally and Netty handles the failure as usual. Event loop only: the
     * socket is closed on that same thread, so it cannot close between the check and the call.
     */
    static int writeNow(Channel channel, long address, int length) {
        if (address == 0 || !(channel instanceof EpollSocketChannel ch) || !ch.isActive()) {
            return -1;
        }
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        if (out == null || !out.isEmpty() || out.totalPendingWriteBytes() != 0) {
            return -1;
        }
        try {
            // send(2) rather than write(2): the same bytes without the file layer's checks and
            // notifications (BENCHMARKS.md, change 15). The epoll channel's descriptor is a Socket.
            FileDescriptor fd = ch.fd();
            return fd instanceof Socket socket ? socket.sendAddress(address, 0, length) : fd.writeAddress(address, 0, length);
        } catch (IOException e) {
            return -1;
        }
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

    /** A whole text frame holding {@code text}, in a direct buffer that is never released. */
    private static ByteBuf frameBytes(byte[] text) {
        ByteBuf b = Unpooled.directBuffer(Publication.MAX_HEADER + text.length);
        Publication.writeTextHeader(b, text.length);
        b.writeBytes(text);
        return b;
    }
}
