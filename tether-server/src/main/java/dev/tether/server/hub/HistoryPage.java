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

    /**
     * Without {@code since}: the latest {@code limit}. With it: what follows it, or a gap first.
     *
     * <p>History may lose its oldest publications while this reads (age, size, or the memory limit
     * trimming on another thread): whatever left between the check and the read is reported in the
     * gap too, and a page ends where one left in the middle of the read, so a page after
     * {@code since} never skips a publication silently.
     */
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
            long want = since.offset() >= top ? top + 1 : since.offset() + 1; // no overflow at Long.MAX_VALUE
            if (want < first && want <= top) {
                gap = Gap.retention(want, first - 1);
                from = first;
            } else {
                from = want;
            }
        }
        List<Publication> publications = contiguous(stream.read(from, limit));
        if (since != null && (gap == null || !gap.reason().equals(Gap.EPOCH)) && from <= top) {
            // The first offset this page holds, or where history starts now if it holds none.
            long got = publications.isEmpty() ? Math.min(stream.first(), top + 1) : publications.get(0).offset();
            if (got > from) {
                gap = Gap.retention(since.offset() + 1, got - 1);
            }
        }
        return new HistoryPage(publications, top, epoch, gap);
    }

    /**
     * The publications up to the first hole: one can open in the middle of a read when the oldest
     * leave history under it. The client asks again from the last one it got and is told the gap.
     */
    private static List<Publication> contiguous(List<Publication> read) {
        for (int i = 1; i < read.size(); i++) {
            if (read.get(i).offset() != read.get(i - 1).offset() + 1) {
                return read.subList(0, i);
            }
        }
        return read;
    }

    /** Writes the result object's fields (without the braces). */
    public void writeFields(JsonGenerator g) throws IOException {
        g.writeArrayFieldStart("publications");
        for (Publication p : publications) {
            g.writeRawValue(p.historyEntry());
        }
        g.writeEndArray();
        g.writeNumberField("offset", top);
        g.writeStringField("epoch", epoch);
        if (gap != null) {
            gap.write(g);
        }
    }
}
