package dev.tether.server.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * Publications that cannot be delivered: offsets {@code from..to} inclusive. For {@code epoch} gaps
 * the bounds are unknown (the client's offsets belong to a history that no longer exists).
 */
public record Gap(long from, long to, String reason) {
    public static final String RETENTION = "retention";
    public static final String EPOCH = "epoch";

    public static Gap retention(long from, long to) {
        return new Gap(from, to, RETENTION);
    }

    public static Gap epoch() {
        return new Gap(-1, -1, EPOCH);
    }

    public void write(JsonGenerator g) throws IOException {
        g.writeObjectFieldStart("gap");
        if (from >= 0) {
            g.writeNumberField("from", from);
            g.writeNumberField("to", to);
        }
        g.writeStringField("reason", reason);
        g.writeEndObject();
    }
}
