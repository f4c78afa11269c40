package dev.tether.server.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.protocol.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pre-built frames are checked by Netty's own RFC 6455 decoder, as a client would read them. */
class PublicationTest {

    /** Data sizes that put the push on each side of the 7-bit, 16-bit and 64-bit length forms. */
    @ParameterizedTest
    @ValueSource(ints = {0, 10, 11, 40, 50, 200, 65_400, 65_420, 65_421, 65_500, 70_000, 300_000})
    void frameIsOneValidTextFrameHoldingThePush(int size) throws Exception {
        Publication p = publication(size, 7);
        TextWebSocketFrame frame = decode(p.frame());
        try {
            assertThat(frame.isFinalFragment()).isTrue();
            assertThat(frame.content().readableBytes()).isEqualTo(p.pushLength());
            assertThat(frame.text()).isEqualTo(p.push().toString(StandardCharsets.UTF_8));
            JsonNode push = Json.MAPPER.readTree(frame.text());
            assertThat(push.get("op").asText()).isEqualTo("pub");
            assertThat(push.get("offset").asLong()).isEqualTo(7);
            assertThat(push.get("data").get("s").asText()).hasSize(size);
            assertThat(p.frameLength()).isEqualTo(p.frame().readableBytes());
        } finally {
            frame.release();
        }
    }

    /** The address handed to the socket's write call holds exactly the bytes of {@link Publication#frame()}. */
    @ParameterizedTest
    @ValueSource(ints = {0, 200, 70_000})
    void frameAddressPointsAtTheFrameBytes(int size) {
        Publication p = publication(size, 9);
        long address = p.frameAddress();
        assertThat(address).as("direct buffers have an address where Unsafe is available").isNotZero();
        byte[] atAddress = new byte[p.frameLength()];
        io.netty.util.internal.PlatformDependent.copyMemory(address, atAddress, 0, atAddress.length);
        assertThat(atAddress).isEqualTo(io.netty.buffer.ByteBufUtil.getBytes(p.frame()));
    }

    /** A small batch is copied into one buffer: the same frame as the header followed by views. */
    @ParameterizedTest
    @ValueSource(ints = {3, 500, 5_000})
    void copiedBatchIsTheSameFrameAsTheBatchOfViews(int size) throws Exception {
        Publication[] pubs = {publication(size, 1), publication(size, 2), publication(size, 3)};
        ByteBuf copied = Unpooled.directBuffer();
        Publication.writeTextHeader(copied, batchPayload(pubs));
        for (int i = 0; i < pubs.length; i++) {
            pubs[i].copyPush(copied, i < pubs.length - 1);
        }
        ByteBuf views = batchOfViews(pubs);
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(copied)).isEqualTo(io.netty.buffer.ByteBufUtil.getBytes(views));
        TextWebSocketFrame frame = decode(copied);
        try {
            assertThat(frame.text().split("\n", -1)).hasSize(3);
        } finally {
            frame.release();
            views.release();
        }
        assertThat(pubs[0].frame().readableBytes()).as("the stored bytes are untouched").isEqualTo(pubs[0].frameLength());
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 500, 40_000})
    void batchOfHeaderAndLinesIsOneFrameOfNewlineSeparatedPushes(int size) throws Exception {
        Publication[] pubs = {publication(size, 1), publication(size, 2), publication(size, 3)};
        ByteBuf wire = batchOfViews(pubs);
        TextWebSocketFrame frame = decode(wire);
        try {
            String[] lines = frame.text().split("\n", -1);
            assertThat(lines).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(Json.MAPPER.readTree(lines[i]).get("offset").asLong()).isEqualTo(i + 1);
            }
        } finally {
            frame.release();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 10})
    void viewsAreIndependentAndReleasingThemIsFree(int size) {
        Publication p = publication(size, 1);
        ByteBuf a = p.frame();
        ByteBuf b = p.frame();
        a.skipBytes(a.readableBytes());
        assertThat(a.release()).isFalse();
        assertThat(b.readableBytes()).isEqualTo(p.frameLength());
        for (int i = 0; i < 1000; i++) {
            p.frame().release(); // what every completed socket write does to its view
        }
        assertThat(p.frame().readableBytes()).isEqualTo(p.frameLength());
        ByteBuf line = p.line();
        assertThat(line.readableBytes()).isEqualTo(p.pushLength() + 1);
        assertThat(line.getByte(line.writerIndex() - 1)).isEqualTo((byte) '\n');
        assertThat(p.dataJson()).isEqualTo("{\"s\":\"" + "x".repeat(size) + "\"}");
    }

    /** Offsets and times of every decimal width (and a negative time), with and without {@code from}. */
    @ParameterizedTest
    @ValueSource(longs = {0, 1, 9, 10, 99, 100, 12_345, 999_999_999_999L, 1_000_000_000_000_000_000L, Long.MAX_VALUE, -1, -42,
            Long.MIN_VALUE})
    void pushIsExactlyTheDocumentedJson(long n) {
        long offset = Math.max(0, n);
        String data = "{\"t\":\"\u00e9\\\"\"}";
        Publication withFrom = new Publication("chat:a\"b", offset, n, data.getBytes(StandardCharsets.UTF_8), "al\\ice", "c-1");
        assertThat(withFrom.push().toString(StandardCharsets.UTF_8)).isEqualTo("{\"op\":\"pub\",\"channel\":\"chat:a\\\"b\","
                + "\"offset\":" + offset + ",\"data\":" + data + ",\"from\":{\"user\":\"al\\\\ice\",\"client\":\"c-1\"},\"ts\":" + n + "}");
        Publication serverSide = new Publication("news", offset, n, "1".getBytes(StandardCharsets.UTF_8), null, null);
        assertThat(serverSide.push().toString(StandardCharsets.UTF_8))
                .isEqualTo("{\"op\":\"pub\",\"channel\":\"news\",\"offset\":" + offset + ",\"data\":1,\"ts\":" + n + "}");
        assertThat(serverSide.dataJson()).isEqualTo("1");
        assertThat(withFrom.dataJson()).isEqualTo(data);
        io.netty.buffer.ByteBuf line = withFrom.line();
        assertThat(line.getByte(line.writerIndex() - 1)).isEqualTo((byte) '\n');
        assertThat(line.readableBytes()).isEqualTo(withFrom.pushLength() + 1);
        assertThat(Publication.digits(n)).isEqualTo(Long.toString(n).length());
    }

    /**
     * A history entry copied from the push is byte for byte what a JSON generator writes field by
     * field (the reply's encoding until change 22), for every decimal width, with and without
     * {@code from}, escapes and non-ASCII included. (Characters outside the BMP in a user or client
     * id are the one difference: see the next test.)
     */
    @ParameterizedTest
    @ValueSource(longs = {0, 1, 9, 10, 12_345, 1_000_000_000_000_000_000L, Long.MAX_VALUE, -1, Long.MIN_VALUE})
    void historyEntryIsWhatAGeneratorWritesFieldByField(long n) {
        long offset = Math.max(0, n);
        String data = "{\"t\":\"\u00e9\\\"\",\"n\":[1.50,-0,1e2]}";
        Publication withFrom = new Publication("chat:a\"b", offset, n, data.getBytes(StandardCharsets.UTF_8), "al\\ice\u00fc", "c-1");
        Publication anonymous = new Publication("chat:a", offset, n, data.getBytes(StandardCharsets.UTF_8), null, "c-2");
        Publication serverSide = new Publication("news", offset, n, "1".getBytes(StandardCharsets.UTF_8), null, null);
        for (Publication p : new Publication[] {withFrom, anonymous, serverSide}) {
            String copied = Json.utf8(Json.writeBytes(g -> g.writeRawValue(p.historyEntry())));
            assertThat(copied).isEqualTo(fieldByField(p));
            assertThat(p.historyEntry().getValue()).isEqualTo(copied);
            assertThat(p.historyEntry().asUnquotedUTF8()).isEqualTo(copied.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * An emoji in a user id: the generator escaped it as a surrogate pair, the push (and so the
     * entry) carries it as UTF-8, the same value.
     */
    @org.junit.jupiter.api.Test
    void historyEntryWithACharacterOutsideTheBmpIsTheSameValue() throws Exception {
        Publication p = new Publication("chat:a", 3, 7, "{\"x\":1}".getBytes(StandardCharsets.UTF_8), "ada\uD83D\uDE00", "c-1");
        String copied = Json.utf8(Json.writeBytes(g -> g.writeRawValue(p.historyEntry())));
        assertThat(copied).contains("\"user\":\"ada\uD83D\uDE00\"");
        assertThat(Json.MAPPER.readTree(copied)).isEqualTo(Json.MAPPER.readTree(fieldByField(p)));
    }

    /** A page larger than the generator's buffer takes the copy-when-full path and stays exact. */
    @org.junit.jupiter.api.Test
    void historyEntriesPastTheGeneratorsBufferStayExact() {
        java.util.List<Publication> page = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            page.add(publication(i * 7, i + 1));
        }
        String copied = Json.utf8(Json.writeBytes(g -> {
            g.writeStartArray();
            for (Publication p : page) {
                g.writeRawValue(p.historyEntry());
            }
            g.writeEndArray();
        }));
        StringBuilder expected = new StringBuilder("[");
        for (Publication p : page) {
            expected.append(expected.length() > 1 ? "," : "").append(fieldByField(p));
        }
        assertThat(copied).isEqualTo(expected.append(']').toString());
    }

    private static String fieldByField(Publication p) {
        return Json.utf8(Json.writeBytes(g -> {
            g.writeStartObject();
            g.writeNumberField("offset", p.offset());
            g.writeFieldName("data");
            g.writeRawValue(p.dataJson());
            if (p.fromClient() != null) {
                g.writeObjectFieldStart("from");
                g.writeStringField("user", p.fromUser() == null ? "" : p.fromUser());
                g.writeStringField("client", p.fromClient());
                g.writeEndObject();
            }
            g.writeNumberField("ts", p.timestamp());
            g.writeEndObject();
        }));
    }

    /** Publications carved one after another from one block read exactly as ones with blocks of their own. */
    @ParameterizedTest
    @ValueSource(ints = {0, 200, 5_000})
    void publicationsSharingABlockAreTheSameFramesAtTheirOwnPlaces(int size) throws Exception {
        Slab block = Slab.allocate(64 << 10);
        byte[] data = ("{\"s\":\"" + "x".repeat(size) + "\"}").getBytes(StandardCharsets.UTF_8);
        Publication a = new Publication("room:1", 1, 1_700_000_000_000L, data, "alice", "c1", n -> block);
        Publication b = new Publication("room:1", 2, 1_700_000_000_001L, data, "alice", "c1", n -> block);
        assertThat(a.slab()).isSameAs(b.slab());
        assertThat(block.remaining()).isEqualTo((64 << 10) - a.frameBytes() - b.frameBytes());
        assertThat(b.frameAddress() - a.frameAddress()).as("b follows a, newline included").isEqualTo(a.frameBytes());
        Publication alone = new Publication("room:1", 2, 1_700_000_000_001L, data, "alice", "c1");
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(b.frame())).isEqualTo(io.netty.buffer.ByteBufUtil.getBytes(alone.frame()));
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(b.line())).isEqualTo(io.netty.buffer.ByteBufUtil.getBytes(alone.line()));
        assertThat(b.dataJson()).isEqualTo(alone.dataJson());
        TextWebSocketFrame frame = decode(a.frame());
        try {
            assertThat(Json.MAPPER.readTree(frame.text()).get("offset").asLong()).isEqualTo(1);
        } finally {
            frame.release();
        }
        byte[] atAddress = new byte[b.frameLength()];
        io.netty.util.internal.PlatformDependent.copyMemory(b.frameAddress(), atAddress, 0, atAddress.length);
        assertThat(atAddress).isEqualTo(io.netty.buffer.ByteBufUtil.getBytes(alone.frame()));
    }

    private static Publication publication(int size, long offset) {
        byte[] data = ("{\"s\":\"" + "x".repeat(size) + "\"}").getBytes(StandardCharsets.UTF_8);
        return new Publication("room:1", offset, 1_700_000_000_000L, data, "alice", "c1");
    }

    /** Payload bytes of one frame carrying {@code pubs}, one per line. */
    private static int batchPayload(Publication[] pubs) {
        int payload = -1;
        for (Publication p : pubs) {
            payload += 1 + p.pushLength();
        }
        return payload;
    }

    /** The frame as the server writes a large batch: a header, then views of each line. */
    private static ByteBuf batchOfViews(Publication[] pubs) {
        ByteBuf header = Unpooled.buffer();
        Publication.writeTextHeader(header, batchPayload(pubs));
        ByteBuf[] parts = new ByteBuf[pubs.length + 1];
        parts[0] = header;
        for (int i = 0; i < pubs.length; i++) {
            parts[i + 1] = i < pubs.length - 1 ? pubs[i].line() : pubs[i].push();
        }
        return Unpooled.wrappedBuffer(parts);
    }

    private static TextWebSocketFrame decode(ByteBuf wire) {
        WebSocketDecoderConfig config = WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(false).maxFramePayloadLength(1 << 20).build();
        EmbeddedChannel ch = new EmbeddedChannel(new WebSocket13FrameDecoder(config));
        assertThat(ch.writeInbound(wire)).isTrue();
        TextWebSocketFrame frame = ch.readInbound();
        assertThat((Object) ch.readInbound()).as("exactly one frame").isNull();
        assertThat(ch.finish()).isFalse();
        return frame;
    }
}
