package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The client's one {@link ObjectMapper} and helpers to read protocol messages. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /**
     * {@code data} as a tree of its own, taken now on the caller's thread: a copy of a
     * {@link JsonNode}, anything else through Jackson. A publish queued or resent later sends what
     * the data was at the call, whatever the caller does with its object afterwards.
     */
    static JsonNode toTree(Object data) {
        if (data instanceof JsonNode node) {
            return node.deepCopy();
        }
        return MAPPER.valueToTree(data);
    }

    static ObjectNode position(StreamPosition p) {
        ObjectNode n = object();
        n.put("offset", p.offset());
        n.put("epoch", p.epoch());
        return n;
    }

    /** A {@code gap} object, or null when absent. */
    static Gap gap(JsonNode gap) {
        if (gap == null || !gap.isObject()) {
            return null;
        }
        String reason = gap.path("reason").asText(Gap.UNKNOWN);
        return new Gap(gap.path("from").asLong(-1), gap.path("to").asLong(-1), reason);
    }

    /** A {@code from} object of a publication, or null for a server-side publish. */
    static ClientInfo from(JsonNode from) {
        if (from == null || !from.isObject()) {
            return null;
        }
        return new ClientInfo(from.path("client").asText(""), from.path("user").asText(""), null);
    }

    /** A presence entry or a join/leave push. */
    static ClientInfo clientInfo(JsonNode n) {
        JsonNode info = n.get("info");
        return new ClientInfo(n.path("client").asText(""), n.path("user").asText(""),
                info == null || info.isNull() ? null : info);
    }

    static Publication publication(String channel, String epoch, JsonNode p) {
        return new Publication(channel, p.path("offset").asLong(), epoch, p.get("data"), from(p.get("from")),
                p.path("ts").asLong());
    }

    static TetherException error(JsonNode error) {
        return new TetherException(error.path("code").asInt(100), error.path("message").asText("error"),
                error.path("temporary").asBoolean(false));
    }
}
