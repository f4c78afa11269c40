package dev.tether.server.broker;

import dev.tether.server.protocol.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One stored publication. Immutable and shared by every reader.
 *
 * <p>The {@code pub} push that subscribers receive is encoded exactly once, here, into a direct
 * buffer that already holds the finished WebSocket frame: {@code [frame header][push JSON]['\n']}.
 * A delivery of one publication hands the frame's {@link #frameAddress() address} straight to the
 * socket's write call when nothing is queued for that socket, or else writes a {@link #frame()
 * duplicate} past the WebSocket encoder, so fan-out costs no JSON encoding, no frame object, no
 * header allocation and no copy of the payload per subscriber. A batch of several publications in one
 * frame writes its own header followed by {@link #line() views} of each push. The memory is freed
 * by the garbage collector once history and every in-flight write have let go of it (the buffer is
 * not reference counted, because readers on other threads may still hold it after it leaves
 * history).
 */
public final class Publication {
    private static final byte[] PUB_PREFIX = "{\"op\":\"pub\",\"channel\":".getBytes(StandardCharsets.US_ASCII);

    private final String channel;
    private final long offset;
    private final long timestamp;
    private final String fromUser;
    private final String fromClient;
    /** Frame header, push JSON, newline; never released (see the class comment). */
    private final ByteBuf wire;
    private final int headerLength;
    private final int pushLength;
    private final int dataStart;
    private final int dataLength;

    /**
     * @param data the publication's data, already valid compact JSON
     * @param fromClient the publishing client id, or null for a server-side publish
     */
    public Publication(String channel, long offset, long timestamp, byte[] data, String fromUser, String fromClient) {
        this.channel = channel;
        this.offset = offset;
        this.timestamp = timestamp;
        this.fromUser = fromUser;
        this.fromClient = fromClient;
        // Sized exactly, then written once into the direct buffer: no intermediate array, no copy.
        byte[] quotedChannel = Json.quote(channel);
        byte[] quotedUser = fromClient == null ? null : Json.quote(fromUser == null ? "" : fromUser);
        byte[] quotedClient = fromClient == null ? null : Json.quote(fromClient);
        int beforeData = PUB_PREFIX.length + quotedChannel.length + OFFSET_FIELD.length + digits(offset) + DATA_FIELD.length;
        int push = beforeData + data.length
                + (fromClient == null ? 0 : FROM_USER_FIELD.length + quotedUser.length + FROM_CLIENT_FIELD.length
                        + quotedClient.length + 1)
                + TS_FIELD.length + digits(timestamp) + 1;
        this.dataStart = beforeData;
        this.dataLength = data.length;
        this.pushLength = push;
        this.headerLength = textHeaderLength(push);
        ByteBuffer memory = ByteBuffer.allocateDirect(headerLength + push + 1);
        ByteBuf out = (PlatformDependent.hasUnsafe() ? new SharedDirectBuf(memory) : Unpooled.wrappedBuffer(memory)).clear();
        writeTextHeader(out, push);
        out.writeBytes(PUB_PREFIX).writeBytes(quotedChannel).writeBytes(OFFSET_FIELD);
        writeDigits(out, offset);
        out.writeBytes(DATA_FIELD).writeBytes(data);
        if (fromClient != null) {
            out.writeBytes(FROM_USER_FIELD).writeBytes(quotedUser).writeBytes(FROM_CLIENT_FIELD).writeBytes(quotedClient)
                    .writeByte('}');
        }
        out.writeBytes(TS_FIELD);
        writeDigits(out, timestamp);
        out.writeByte('}').writeByte('\n');
        this.wire = out instanceof SharedDirectBuf ? out : Unpooled.unreleasableBuffer(out);
    }

    private static final byte[] OFFSET_FIELD = ascii(",\"offset\":");
    private static final byte[] DATA_FIELD = ascii(",\"data\":");
    private static final byte[] FROM_USER_FIELD = ascii(",\"from\":{\"user\":");
    private static final byte[] FROM_CLIENT_FIELD = ascii(",\"client\":");
    private static final byte[] TS_FIELD = ascii(",\"ts\":");

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Characters of {@code v} in decimal, with a sign when negative. */
    static int digits(long v) {
        if (v < 0) {
            return v == Long.MIN_VALUE ? 20 : 1 + digits(-v);
        }
        int n = 1;
        for (long limit = 10; n < 19 && v >= limit; limit *= 10) {
            n++;
        }
        return n;
    }

    /** Writes {@code v} in decimal ASCII, exactly {@link #digits} bytes. */
    private static void writeDigits(ByteBuf out, long v) {
        if (v == Long.MIN_VALUE) {
            out.writeBytes(ascii(Long.toString(v)));
            return;
        }
        if (v < 0) {
            out.writeByte('-');
            v = -v;
        }
        int n = digits(v);
        int at = out.writerIndex();
        for (int i = n - 1; i >= 0; i--) {
            out.setByte(at + i, (int) ('0' + v % 10));
            v /= 10;
        }
        out.writerIndex(at + n);
    }

    /**
     * The stored bytes, shared by every reader and freed by the garbage collector. Reference
     * counting is switched off, so a view ({@code duplicate()}) is a single object and releasing it
     * never frees the stored bytes; the unreleasable wrapper used without Unsafe costs a second
     * object per delivery.
     */
    static final class SharedDirectBuf extends UnpooledUnsafeDirectByteBuf {
        SharedDirectBuf(ByteBuffer bytes) {
            super(UnpooledByteBufAllocator.DEFAULT, bytes, bytes.remaining());
        }

        @Override
        public ByteBuf retain() {
            return this;
        }

        @Override
        public ByteBuf retain(int increment) {
            return this;
        }

        @Override
        public boolean release() {
            return false;
        }

        @Override
        public boolean release(int decrement) {
            return false;
        }
    }

    /** The longest header of an unmasked server frame: 2 bytes plus an 8-byte length. */
    public static final int MAX_HEADER = 10;

    /** Length of the header of an unmasked server frame carrying {@code payloadLength} bytes. */
    public static int textHeaderLength(long payloadLength) {
        return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : MAX_HEADER;
    }

    /** Writes the header of a final, unmasked text frame of {@code payloadLength} bytes to {@code out}. */
    public static void writeTextHeader(ByteBuf out, long payloadLength) {
        out.writeByte(0x81);
        if (payloadLength < 126) {
            out.writeByte((int) payloadLength);
        } else if (payloadLength < 65536) {
            out.writeByte(126);
            out.writeShort((int) payloadLength);
        } else {
            out.writeByte(127);
            out.writeLong(payloadLength);
        }
    }

    public String channel() {
        return channel;
    }

    public long offset() {
        return offset;
    }

    public long timestamp() {
        return timestamp;
    }

    public String fromUser() {
        return fromUser;
    }

    public String fromClient() {
        return fromClient;
    }

    /** A new view of the encoded {@code pub} push (JSON only); writing and releasing it is free. */
    public ByteBuf push() {
        return wire.duplicate().setIndex(headerLength, headerLength + pushLength);
    }

    /**
     * A new view of the whole WebSocket text frame carrying this push alone, ready to be written to
     * a socket as raw bytes; releasing it is free.
     */
    public ByteBuf frame() {
        return wire.duplicate().setIndex(0, headerLength + pushLength);
    }

    /** A new view of the push followed by a newline, for the middle of a batch frame. */
    public ByteBuf line() {
        return wire.duplicate().setIndex(headerLength, headerLength + pushLength + 1);
    }

    public int pushLength() {
        return pushLength;
    }

    /**
     * Appends the push (and a newline when {@code newline}) to {@code out}; the stored bytes are
     * only read. Between two native buffers this is one memory copy: {@code ByteBuf.writeBytes}
     * would first make a {@code ByteBuffer} view of the source, an object per copy.
     */
    public void copyPush(ByteBuf out, boolean newline) {
        int n = pushLength + (newline ? 1 : 0);
        if (out.hasMemoryAddress() && wire.hasMemoryAddress()) {
            out.ensureWritable(n);
            int at = out.writerIndex();
            PlatformDependent.copyMemory(wire.memoryAddress() + headerLength, out.memoryAddress() + at, n);
            out.writerIndex(at + n);
        } else {
            out.writeBytes(wire, headerLength, n);
        }
    }

    /**
     * Native address of the whole frame ({@link #frameLength()} bytes), or 0 when the bytes have
     * none (no Unsafe). The memory belongs to this object: a caller that hands the address to a
     * system call must keep this publication reachable until the call returns
     * ({@code Reference.reachabilityFence}).
     */
    public long frameAddress() {
        return wire.hasMemoryAddress() ? wire.memoryAddress() : 0;
    }

    public int frameLength() {
        return headerLength + pushLength;
    }

    /**
     * Memory this publication keeps alive while a history holds it: its direct buffer (the frame and
     * its newline) plus {@link #HEAP_BYTES} of heap. What memory limits count it as.
     */
    public long memoryBytes() {
        return HEAP_BYTES + headerLength + pushLength + 1;
    }

    /**
     * Heap of one publication besides shared strings: this object, the buffer object over its direct
     * memory, the JDK's {@code DirectByteBuffer} and its {@code Cleaner}. Measured 357 B with 200,000
     * publications after a full collection (BENCHMARKS.md, change 19).
     */
    public static final int HEAP_BYTES = 360;

    /** The data as its JSON text. */
    public String dataJson() {
        return wire.toString(headerLength + dataStart, dataLength, StandardCharsets.UTF_8);
    }

    public int dataLength() {
        return dataLength;
    }

    @Override
    public String toString() {
        return channel + "@" + offset;
    }
}
