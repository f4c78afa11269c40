package dev.tether.server.broker;

import dev.tether.server.protocol.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One stored publication. Immutable and shared by every reader.
 *
 * <p>The {@code pub} push that subscribers receive is encoded exactly once, here, into a direct
 * buffer; every delivery writes a {@link #push() duplicate} of it, so fan-out costs neither JSON
 * encoding nor a copy of the payload per subscriber. The memory is freed by the garbage collector
 * once history and every in-flight write have let go of it (the buffer is not reference counted,
 * because readers on other threads may still hold it after it leaves history).
 */
public final class Publication {
    private static final byte[] PUB_PREFIX = "{\"op\":\"pub\",\"channel\":".getBytes(StandardCharsets.US_ASCII);

    private final String channel;
    private final long offset;
    private final long timestamp;
    private final String fromUser;
    private final String fromClient;
    private final ByteBuf push;
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
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + channel.length() + 96);
        out.writeBytes(PUB_PREFIX);
        out.writeBytes(Json.quote(channel));
        ascii(out, ",\"offset\":" + offset + ",\"data\":");
        this.dataStart = out.size();
        this.dataLength = data.length;
        out.writeBytes(data);
        if (fromClient != null) {
            ascii(out, ",\"from\":{\"user\":");
            out.writeBytes(Json.quote(fromUser == null ? "" : fromUser));
            ascii(out, ",\"client\":");
            out.writeBytes(Json.quote(fromClient));
            out.write('}');
        }
        ascii(out, ",\"ts\":" + timestamp + "}");
        byte[] bytes = out.toByteArray();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        this.push = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct));
    }

    private static void ascii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
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

    /** A new read-only view of the encoded {@code pub} push; writing and releasing it is free. */
    public ByteBuf push() {
        return push.duplicate();
    }

    public int pushLength() {
        return push.readableBytes();
    }

    /** The data as its JSON text. */
    public String dataJson() {
        return push.toString(dataStart, dataLength, StandardCharsets.UTF_8);
    }

    public int dataLength() {
        return dataLength;
    }

    @Override
    public String toString() {
        return channel + "@" + offset;
    }
}
