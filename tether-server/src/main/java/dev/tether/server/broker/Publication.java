package dev.tether.server.broker;

import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.tether.server.protocol.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.IntFunction;

/**
 * One stored publication. Immutable and shared by every reader.
 *
 * <p>The {@code pub} push that subscribers receive is encoded exactly once, here, into a direct
 * buffer that already holds the finished WebSocket frame: {@code [frame header][push JSON]['\n']}.
 * A delivery of one publication hands the frame's {@link #frameAddress() address} straight to the
 * socket's write call when nothing is queued for that socket, or else writes a {@link #frame()
 * duplicate} past the WebSocket encoder, so fan-out costs no JSON encoding, no frame object, no
 * header allocation and no copy of the payload per subscriber. A batch of several publications in one
 * frame writes its own header followed by {@link #line() views} of each push. The frame is carved
 * from a {@link Slab}: a block of its own, or the block its channel's recent publications share. The
 * memory is freed by the garbage collector once history and every in-flight write have let go of
 * every publication of the block (it is not reference counted, because readers on other threads may
 * still hold a publication after it leaves history).
 */
public final class Publication {
    private static final byte[] PUB_PREFIX = "{\"op\":\"pub\",\"channel\":".getBytes(StandardCharsets.US_ASCII);

    private final String channel;
    private final long offset;
    private final long timestamp;
    private final String fromUser;
    private final String fromClient;
    /** The block holding this frame at {@link #base}: header, push JSON, newline; never released. */
    private final Slab slab;
    private final int base;
    private final int headerLength;
    private final int pushLength;
    private final int dataStart;
    private final int dataLength;

    /**
     * In a block of its own, exactly its size.
     *
     * @param data the publication's data, already valid compact JSON
     * @param fromClient the publishing client id, or null for a server-side publish
     */
    public Publication(String channel, long offset, long timestamp, byte[] data, String fromUser, String fromClient) {
        this(channel, offset, timestamp, data, fromUser, fromClient, Slab::allocate);
    }

    /**
     * @param memory given the frame's length, a block with at least that much {@link Slab#remaining()
     *     room}; the frame is carved from it
     */
    public Publication(String channel, long offset, long timestamp, byte[] data, String fromUser, String fromClient,
                       IntFunction<Slab> memory) {
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
        int length = headerLength + push + 1;
        this.slab = memory.apply(length);
        this.base = slab.carve(length);
        // A view of exactly its own bytes to write through: readers only ever see finished frames.
        ByteBuf out = slab.memory().slice(base, length).writerIndex(0);
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
     * counting is switched off, so a view ({@code slice}) is a single object and releasing it
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
        return slab.memory().slice(base + headerLength, pushLength);
    }

    /**
     * A new view of the whole WebSocket text frame carrying this push alone, ready to be written to
     * a socket as raw bytes; releasing it is free.
     */
    public ByteBuf frame() {
        return slab.memory().slice(base, headerLength + pushLength);
    }

    /** A new view of the push followed by a newline, for the middle of a batch frame. */
    public ByteBuf line() {
        return slab.memory().slice(base + headerLength, pushLength + 1);
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
        ByteBuf wire = slab.memory();
        if (out.hasMemoryAddress() && wire.hasMemoryAddress()) {
            out.ensureWritable(n);
            int at = out.writerIndex();
            PlatformDependent.copyMemory(wire.memoryAddress() + base + headerLength, out.memoryAddress() + at, n);
            out.writerIndex(at + n);
        } else {
            out.writeBytes(wire, base + headerLength, n);
        }
    }

    /**
     * Native address of the whole frame ({@link #frameLength()} bytes), or 0 when the bytes have
     * none (no Unsafe). The memory belongs to this object: a caller that hands the address to a
     * system call must keep this publication reachable until the call returns
     * ({@code Reference.reachabilityFence}).
     */
    public long frameAddress() {
        return slab.memory().hasMemoryAddress() ? slab.memory().memoryAddress() + base : 0;
    }

    public int frameLength() {
        return headerLength + pushLength;
    }

    /** Bytes of its block this publication's frame takes: header, push and newline. */
    public int frameBytes() {
        return headerLength + pushLength + 1;
    }

    /** The block this publication's frame was carved from. */
    public Slab slab() {
        return slab;
    }

    /**
     * Heap of one publication besides shared strings and its block: this object (its fields come to
     * 64 B; {@code dev.tether.bench.tools.PublicationMemory} measured 65 B each with 16 KiB blocks,
     * the block's own share included; BENCHMARKS.md, change 21).
     */
    public static final int HEAP_BYTES = 64;

    /** The data as its JSON text. */
    public String dataJson() {
        return slab.memory().toString(base + headerLength + dataStart, dataLength, StandardCharsets.UTF_8);
    }

    /**
     * This publication as an entry of a {@code history} reply, {@code {"offset","data","from"?,"ts"}},
     * for {@link com.fasterxml.jackson.core.JsonGenerator#writeRawValue(SerializableString)}. Those
     * are the push's own last fields in the same order, so the entry is an opening brace and a copy
     * of the push's bytes from {@code "offset"} on: the data is never decoded to characters and
     * encoded again.
     */
    public SerializableString historyEntry() {
        int offsetField = dataStart - DATA_FIELD.length - digits(offset) - OFFSET_FIELD.length + 1; // past its comma
        return new HistoryEntry(slab.memory(), base + headerLength + offsetField, pushLength - offsetField);
    }

    /**
     * {@code '{'} followed by {@code length} bytes of {@code memory} at {@code index}: raw JSON for a
     * byte-oriented generator, copied straight from the stored frame. The character forms exist for
     * the interface; nothing in the server writes history through a character generator.
     */
    private record HistoryEntry(ByteBuf memory, int index, int length) implements SerializableString {
        @Override
        public int appendUnquotedUTF8(byte[] buffer, int offset) {
            if (buffer.length - offset < length + 1) {
                return -1;
            }
            buffer[offset] = '{';
            memory.getBytes(index, buffer, offset + 1, length);
            return length + 1;
        }

        @Override
        public byte[] asUnquotedUTF8() {
            byte[] out = new byte[length + 1];
            appendUnquotedUTF8(out, 0);
            return out;
        }

        @Override
        public int writeUnquotedUTF8(OutputStream out) throws IOException {
            byte[] bytes = asUnquotedUTF8();
            out.write(bytes);
            return bytes.length;
        }

        @Override
        public int putUnquotedUTF8(ByteBuffer out) {
            if (out.remaining() < length + 1) {
                return -1;
            }
            out.put(asUnquotedUTF8());
            return length + 1;
        }

        @Override
        public String getValue() {
            return "{" + memory.toString(index, length, StandardCharsets.UTF_8);
        }

        @Override
        public int charLength() {
            return getValue().length();
        }

        @Override
        public int appendUnquoted(char[] buffer, int offset) {
            return asString().appendUnquoted(buffer, offset);
        }

        @Override
        public char[] asQuotedChars() {
            return asString().asQuotedChars();
        }

        @Override
        public byte[] asQuotedUTF8() {
            return asString().asQuotedUTF8();
        }

        @Override
        public int appendQuotedUTF8(byte[] buffer, int offset) {
            return asString().appendQuotedUTF8(buffer, offset);
        }

        @Override
        public int appendQuoted(char[] buffer, int offset) {
            return asString().appendQuoted(buffer, offset);
        }

        @Override
        public int writeQuotedUTF8(OutputStream out) throws IOException {
            return asString().writeQuotedUTF8(out);
        }

        @Override
        public int putQuotedUTF8(ByteBuffer out) {
            return asString().putQuotedUTF8(out);
        }

        private SerializedString asString() {
            return new SerializedString(getValue());
        }
    }

    public int dataLength() {
        return dataLength;
    }

    @Override
    public String toString() {
        return channel + "@" + offset;
    }
}
