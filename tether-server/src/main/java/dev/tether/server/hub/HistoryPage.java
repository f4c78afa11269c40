package dev.tether.server.hub;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.Publication;
import dev.tether.server.protocol.Gap;
import dev.tether.server.protocol.StreamPosition;
import java.io.IOException;
import java.util.List;

/** One answer to a {@code history} query, shared by the WebSocket command and {@code GET /api/history}. */
public record HistoryPage(List<Publication> publications, long top, String epoch, Gap gap) {

    /** Without {@code since}: the latest {@code limit}. With it: what follows it, or a gap first. */
    public static HistoryPage read(ChannelStream stream, StreamPosition since, int limit) {
        long top = stream.top();
        long first = stream.first();
        String epoch = stream.epoch();
        long from;
        Gap gap = null;
        if (since == null) {
            from = Math.max(first, top - limit + 1);
        } else if (!since.epoch().equals(epoch)) {
            from = first;
            gap = Gap.epoch();
        } else {
            long want = since.offset() + 1;
            if (want < first && want <= top) {
                gap = Gap.retention(want, first - 1);
                from = first;
            } else {
                from = want;
            }
        }
        return new HistoryPage(stream.read(from, limit), top, epoch, gap);
    }

    /** Writes the result object's fields (without the braces). */
    public void writeFields(JsonGenerator g) throws IOException {
        g.writeArrayFieldStart("publications");
        for (Publication p : publications) {
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
        }
        g.writeEndArray();
        g.writeNumberField("offset", top);
        g.writeStringField("epoch", epoch);
        if (gap != null) {
            gap.write(g);
        }
    }
}
