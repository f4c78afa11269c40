package dev.tether.server.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
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

    /** Field values of a message: a tree each, without the whole-document trailing-token check. */
    private static final ObjectReader FIELD_READER = MAPPER.readerFor(JsonNode.class)
            .without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    /**
     * Reads one message as {@code MAPPER.readTree} does (it refuses what readTree refuses, with
     * Jackson's messages; a trailing token's message differs in wording; strings nested in the raw
     * field are skipped, not decoded, so Jackson's 20,000,000-character string limit, which only a
     * {@code max-frame-bytes} over 20 MB could reach, does not apply to them), except that the
     * value of the top-level field {@code rawField}, when present, is not built into a tree: it is a
     * {@link com.fasterxml.jackson.databind.node.POJONode} holding the {@link RawJson} bytes it
     * arrived in, checked by the parser all the same. A publish's {@code data} is stored as those
     * bytes ({@link #rawBytes}) instead of a tree written out again.
     *
     * <p>Input that is not a UTF-8 object (another encoding detected from its first bytes, a byte
     * order mark, anything but an object) is read by {@code readTree} itself; the caller then gets a
     * plain tree and {@link #rawBytes} encodes it as before.
     */
    public static JsonNode readMessage(byte[] bytes, int from, int length, String rawField) throws IOException {
        if (!startsWithBrace(bytes, from, length)) {
            return MAPPER.readTree(bytes, from, length);
        }
        try (JsonParser p = MAPPER.createParser(bytes, from, length)) {
            if (!(p instanceof UTF8StreamJsonParser) || p.nextToken() != JsonToken.START_OBJECT) {
                return MAPPER.readTree(bytes, from, length);
            }
            JsonNodeFactory nodes = MAPPER.getNodeFactory();
            ObjectNode message = nodes.objectNode();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals(rawField)) {
                    int start = from + (int) p.currentTokenLocation().getByteOffset();
                    if (value == JsonToken.VALUE_STRING) {
                        p.finishToken(); // checks the string and moves past its closing quote
                    } else {
                        p.skipChildren(); // reads (and checks) every token of an object or array
                    }
                    int end = from + (int) p.currentLocation().getByteOffset();
                    message.set(name, nodes.pojoNode(new RawJson(bytes, start, end)));
                    continue;
                }
                message.set(name, switch (value) {
                    case VALUE_STRING -> nodes.textNode(p.getText());
                    case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                        case INT -> nodes.numberNode(p.getIntValue());
                        case LONG -> nodes.numberNode(p.getLongValue());
                        default -> nodes.numberNode(p.getBigIntegerValue());
                    };
                    case VALUE_TRUE -> nodes.booleanNode(true);
                    case VALUE_FALSE -> nodes.booleanNode(false);
                    case VALUE_NULL -> nodes.nullNode();
                    default -> FIELD_READER.readTree(p); // objects, arrays, floats: as readTree reads them
                });
            }
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new JsonParseException(p, "Trailing token (of type " + after + ") found after value");
            }
            return message;
        }
    }

    /**
     * The bytes to store for a value read by {@link #readMessage}: the raw value made
     * {@link RawJson#compact() compact}, or a tree encoded as compact JSON.
     */
    public static byte[] rawBytes(JsonNode value) throws JsonProcessingException {
        if (value.isPojo() && ((POJONode) value).getPojo() instanceof RawJson raw) {
            return raw.compact();
        }
        return MAPPER.writeValueAsBytes(value);
    }

    /** First byte after ASCII whitespace is '{', and the next three are not zero (UTF-16 or UTF-32). */
    private static boolean startsWithBrace(byte[] bytes, int from, int length) {
        int end = from + length;
        int i = from;
        while (i < end && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\n' || bytes[i] == '\r')) {
            i++;
        }
        if (i >= end || bytes[i] != '{') {
            return false;
        }
        for (int k = i + 1; k < Math.min(end, i + 4); k++) {
            if (bytes[k] == 0) {
                return false;
            }
        }
        return true;
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
