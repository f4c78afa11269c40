package dev.tether.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Json#readMessage} against {@code MAPPER.readTree}, the reader it replaces on the command
 * path: the same fields, the same refusals, and a {@code data} kept as the bytes it arrived in.
 */
class JsonReadMessageTest {

    /** Messages of every shape the commands use, data of every JSON type, spaced and compact. */
    @ParameterizedTest
    @ValueSource(strings = {
        "{\"id\":1,\"op\":\"publish\",\"channel\":\"chat:a\",\"data\":{\"text\":\"hi\"},\"key\":\"k-1\"}",
        "{\"data\":\"a b\\\"c\\\\\",\"op\":\"publish\"}",
        "{\"op\":\"publish\",\"data\":1.50}",
        "{\"op\":\"publish\",\"data\":-0}",
        "{\"op\":\"publish\",\"data\":12345678901234567890123}",
        "{\"op\":\"publish\",\"data\":true,\"id\":9223372036854775807}",
        "{\"op\":\"publish\",\"data\":null}",
        "{\"op\":\"publish\",\"data\":[1,[2,{\"x\":[]}],\"\\u00e9\\u2028\"],\"big\":123456789012345678901234567890}",
        "{\"op\":\"subscribe\",\"id\":3,\"channel\":\"c\",\"since\":{\"offset\":4,\"epoch\":\"e\"},\"recover\":true}",
        "{\"op\":\"connect\",\"id\":1,\"info\":{\"n\":[1.5,2e3]},\"f\":1e400,\"nothing\":null,\"no\":false}",
        "{ \"op\" : \"publish\" , \"data\" : { \"a\" : [ 1 , 2 ] , \"b\" : \"x y\" } , \"id\" : 2 }",
        "  {\"op\":\"pong\"}  ",
        "{}",
    })
    void readsTheSameFieldsAsReadTree(String text) throws Exception {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        JsonNode tree = Json.MAPPER.readTree(bytes);
        JsonNode read = Json.readMessage(bytes, 0, bytes.length, "data");
        assertThat(read.isObject()).isTrue();
        assertThat(fieldNames(read)).containsExactlyElementsOf(fieldNames(tree));
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode got = read.get(field.getKey());
            if (field.getKey().equals("data")) {
                assertThat(got).isInstanceOf(POJONode.class);
                byte[] stored = Json.rawBytes(got);
                assertThat(Json.MAPPER.readTree(stored)).isEqualTo(field.getValue());
                assertThat(new String(stored, StandardCharsets.UTF_8)).doesNotContain("\n", "\r", "\t");
            } else {
                assertThat(got).as(field.getKey()).isEqualTo(field.getValue());
                assertThat(got.getClass()).as(field.getKey()).isEqualTo(field.getValue().getClass());
            }
        }
    }

    @Test
    void dataKeepsThePublishersSpellingAndLosesOnlyWhitespace() throws Exception {
        assertThat(stored("{\"data\":{\"p\":1.50,\"e\":1e2,\"s\":\"\\u00e9\\/\"}}")).isEqualTo("{\"p\":1.50,\"e\":1e2,\"s\":\"\\u00e9\\/\"}");
        assertThat(stored("{\"data\" :\t{ \"a\" :\r\n [ 1, \"x  y\\\" z\" ] }\n, \"op\":\"publish\"}"))
                .isEqualTo("{\"a\":[1,\"x  y\\\" z\"]}");
        assertThat(stored("{\"data\": \"  \"}")).isEqualTo("\"  \"");
        assertThat(stored("{\"data\":7}")).isEqualTo("7");
        assertThat(stored("{\"data\":\"\"}")).isEqualTo("\"\"");
    }

    /** Lines of a batched frame are read in place: offsets are those of the whole array. */
    @Test
    void readsALineInTheMiddleOfAFrame() throws Exception {
        byte[] frame = "{\"op\":\"pong\"}\n{\"id\":2,\"op\":\"publish\",\"data\":[1, 2]}\n{\"op\":\"pong\"}"
                .getBytes(StandardCharsets.UTF_8);
        int from = 14;
        int to = frame.length - 14;
        JsonNode read = Json.readMessage(frame, from, to - from, "data");
        assertThat(read.get("id").intValue()).isEqualTo(2);
        assertThat(new String(Json.rawBytes(read.get("data")), StandardCharsets.UTF_8)).isEqualTo("[1,2]");
    }

    /** Whatever readTree refuses, readMessage refuses too, inside data included. */
    @ParameterizedTest
    @ValueSource(strings = {
        "{\"op\":\"publish\",\"data\":{\"a\":}}",
        "{\"op\":\"publish\",\"data\":{\"a\":1,\"a\":2}}",
        "{\"op\":\"publish\",\"data\":1,\"data\":2}",
        "{\"op\":\"publish\",\"op\":\"x\"}",
        "{\"op\":\"publish\",\"data\":\"line\nbreak\"}",
        "{\"op\":\"publish\",\"data\":\"bad \\q escape\"}",
        "{\"op\":\"publish\",\"data\":[1,2}",
        "{\"op\":\"publish\",\"data\":01}",
        "{\"op\":\"publish\",\"data\":NaN}",
        "{\"op\":\"publish\",\"data\":\"unterminated}",
        "{\"op\":\"publish\",\"data\":1} trailing",
        "{\"op\":\"publish\",\"data\":1} {}",
        "{\"op\":\"publish\",\"data\":1",
        "{\"op\":\"publish\" \"data\":1}",
    })
    void refusesWhatReadTreeRefuses(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Json.MAPPER.readTree(bytes)).isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> Json.readMessage(bytes, 0, bytes.length, "data")).isInstanceOf(JsonProcessingException.class);
    }

    @Test
    void refusesDataNestedDeeperThanTheParsersLimit() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        byte[] bytes = ("{\"op\":\"publish\",\"data\":" + deep + "}").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Json.MAPPER.readTree(bytes)).isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> Json.readMessage(bytes, 0, bytes.length, "data"))
                .isInstanceOf(JsonProcessingException.class).hasMessageContaining("nesting depth");
    }

    @Test
    void refusesNumbersLongerThanTheParsersLimitInsideData() {
        for (String number : new String[] {"1".repeat(1001), "1." + "5".repeat(1000)}) {
            byte[] bytes = ("{\"op\":\"publish\",\"data\":[" + number + "]}").getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> Json.MAPPER.readTree(bytes)).isInstanceOf(JsonProcessingException.class);
            assertThatThrownBy(() -> Json.readMessage(bytes, 0, bytes.length, "data"))
                    .isInstanceOf(JsonProcessingException.class).hasMessageContaining("Number value length");
        }
    }

    @Test
    void refusesInvalidUtf8InsideData() {
        byte[] bytes = "{\"op\":\"publish\",\"data\":[\"xx\"]}".getBytes(StandardCharsets.UTF_8);
        bytes[26] = (byte) 0xC3; // a lead byte followed by '"', not a continuation byte
        assertThatThrownBy(() -> Json.readMessage(bytes, 0, bytes.length, "data")).isInstanceOf(JsonProcessingException.class);
    }

    /**
     * The parser itself refuses invalid UTF-8 in data, top-level or nested (the WebSocket and HTTP
     * paths also check whole messages first): a lone surrogate, an overlong form, a code point past
     * U+10FFFF.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ED A0 80", "C0 80", "F4 90 80 80"})
    void refusesInvalidUtf8SequencesInDataStrings(String hex) {
        byte[] bad = java.util.HexFormat.ofDelimiter(" ").parseHex(hex);
        for (String[] around : new String[][] {{"{\"data\":\"", "\"}"}, {"{\"data\":[{\"t\":\"", "\"}]}"}}) {
            byte[] head = around[0].getBytes(StandardCharsets.UTF_8);
            byte[] tail = around[1].getBytes(StandardCharsets.UTF_8);
            byte[] bytes = new byte[head.length + bad.length + tail.length];
            System.arraycopy(head, 0, bytes, 0, head.length);
            System.arraycopy(bad, 0, bytes, head.length, bad.length);
            System.arraycopy(tail, 0, bytes, head.length + bad.length, tail.length);
            assertThatThrownBy(() -> Json.readMessage(bytes, 0, bytes.length, "data"))
                    .as(hex + " in " + around[0]).isInstanceOf(JsonProcessingException.class);
        }
    }

    /** Not a UTF-8 object: read by readTree itself, so the answer (a tree or an error) is readTree's. */
    @Test
    void otherEncodingsAndNonObjectsAreReadTreesBusiness() throws Exception {
        String text = "{\"op\":\"publish\",\"data\":{\"t\":\"\u00e9\"}}";
        byte[] utf16 = text.getBytes(StandardCharsets.UTF_16LE);
        JsonNode read = Json.readMessage(utf16, 0, utf16.length, "data");
        assertThat(read).isEqualTo(Json.MAPPER.readTree(text));
        assertThat(new String(Json.rawBytes(read.get("data")), StandardCharsets.UTF_8)).isEqualTo("{\"t\":\"\u00e9\"}");

        byte[] bom = ("\uFEFF" + text).getBytes(StandardCharsets.UTF_8);
        assertThat(Json.readMessage(bom, 0, bom.length, "data")).isEqualTo(Json.MAPPER.readTree(text));

        byte[] array = "[1,2]".getBytes(StandardCharsets.UTF_8);
        assertThat(Json.readMessage(array, 0, array.length, "data").isArray()).isTrue();
        byte[] blank = "   ".getBytes(StandardCharsets.UTF_8);
        assertThat(Json.readMessage(blank, 0, blank.length, "data")).isEqualTo(Json.MAPPER.readTree(blank));
    }

    @Test
    void aTreeBuiltElsewhereIsEncodedCompact() throws Exception {
        ObjectNode data = Json.MAPPER.createObjectNode().put("a", 1).put("b", "x y");
        assertThat(new String(Json.rawBytes(data), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1,\"b\":\"x y\"}");
    }

    private static String stored(String message) throws Exception {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        return new String(Json.rawBytes(Json.readMessage(bytes, 0, bytes.length, "data").get("data")), StandardCharsets.UTF_8);
    }

    private static java.util.List<String> fieldNames(JsonNode node) {
        java.util.List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
