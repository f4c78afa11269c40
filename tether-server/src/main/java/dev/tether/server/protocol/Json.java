package dev.tether.server.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The one JSON mapper of the server, and helpers to write JSON straight into Netty buffers. */
public final class Json {
    /** Strict: trailing garbage after a value is an error; floats keep their exact digits. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {
    }

    /** Writes one JSON value with {@code body} into a new buffer from {@code alloc}. */
    public static ByteBuf write(ByteBufAllocator alloc, JsonBody body) {
        ByteBuf buf = alloc.buffer(128);
        try (ByteBufOutputStream out = new ByteBufOutputStream(buf);
             JsonGenerator gen = MAPPER.getFactory().createGenerator((java.io.OutputStream) out)) {
            body.write(gen);
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        return buf;
    }

    /** Same as {@link #write} into a byte array (for HTTP replies and tests). */
    public static byte[] writeBytes(JsonBody body) {
        var out = new java.io.ByteArrayOutputStream(128);
        try (JsonGenerator gen = MAPPER.getFactory().createGenerator(out)) {
            body.write(gen);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** JSON string literal with quotes, as UTF-8. */
    public static byte[] quote(String s) {
        byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(s);
        byte[] out = new byte[escaped.length + 2];
        out[0] = '"';
        System.arraycopy(escaped, 0, out, 1, escaped.length);
        out[out.length - 1] = '"';
        return out;
    }

    public static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Writes the fields of one JSON value. */
    @FunctionalInterface
    public interface JsonBody {
        void write(JsonGenerator gen) throws IOException;
    }
}
