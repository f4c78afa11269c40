package dev.tether.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/** Reads and checks command fields; every failure is a 101 with a message naming the field. */
public final class Fields {
    public static final int MAX_KEY_CHARS = 128;

    private Fields() {
    }

    public static String channel(JsonNode cmd) {
        String channel = requiredString(cmd, "channel");
        if (!ChannelNames.isValid(channel)) {
            throw bad("field 'channel' is not a valid channel name (1-255 of A-Z a-z 0-9 _ - : . @ / = #)");
        }
        return channel;
    }

    public static String requiredString(JsonNode cmd, String field) {
        JsonNode v = cmd.get(field);
        if (v == null || v.isNull()) {
            throw bad("field '" + field + "' is missing");
        }
        if (!v.isTextual()) {
            throw bad("field '" + field + "' must be a string");
        }
        return v.textValue();
    }

    public static String optionalString(JsonNode cmd, String field, int maxChars) {
        JsonNode v = cmd.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw bad("field '" + field + "' must be a string");
        }
        if (v.textValue().length() > maxChars) {
            throw bad("field '" + field + "' is longer than " + maxChars + " characters");
        }
        return v.textValue();
    }

    public static boolean optionalBoolean(JsonNode cmd, String field) {
        JsonNode v = cmd.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw bad("field '" + field + "' must be true or false");
        }
        return v.booleanValue();
    }

    /** A non-negative integer field, or {@code absent} when missing. */
    public static long optionalOffset(JsonNode node, String field, long absent) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return absent;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw bad("field '" + field + "' must be a non-negative integer");
        }
        return v.longValue();
    }

    public static long requiredOffset(JsonNode node, String field) {
        long v = optionalOffset(node, field, -1);
        if (v < 0) {
            throw bad("field '" + field + "' is missing");
        }
        return v;
    }

    /** {@code since: {"offset": N, "epoch": "..."}}, or null when absent. */
    public static StreamPosition since(JsonNode cmd) {
        JsonNode v = cmd.get("since");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw bad("field 'since' must be an object {\"offset\":N,\"epoch\":\"...\"}");
        }
        long offset = requiredOffsetIn(v);
        JsonNode epoch = v.get("epoch");
        if (epoch == null || !epoch.isTextual()) {
            throw bad("field 'since.epoch' must be a string");
        }
        return new StreamPosition(offset, epoch.textValue());
    }

    private static long requiredOffsetIn(JsonNode since) {
        JsonNode v = since.get("offset");
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw bad("field 'since.offset' must be a non-negative integer");
        }
        return v.longValue();
    }

    public static int limit(JsonNode cmd, int dflt, int max) {
        JsonNode v = cmd.get("limit");
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1 || v.intValue() > max) {
            throw bad("field 'limit' must be an integer from 1 to " + max);
        }
        return v.intValue();
    }

    public static ProtocolException bad(String message) {
        return new ProtocolException(ErrorCode.BAD_REQUEST, message);
    }
}
