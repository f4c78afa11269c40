package dev.tether.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One message in a channel.
 *
 * @param channel the channel
 * @param offset  its offset in the channel (1, 2, 3, … within one epoch)
 * @param epoch   the epoch the offset belongs to
 * @param data    the published JSON value
 * @param from    who published it, or null for a server-side publish ({@code POST /api/publish})
 * @param ts      when the server stored it, milliseconds since the epoch
 */
public record Publication(String channel, long offset, String epoch, JsonNode data, ClientInfo from, long ts) {

    /** Where this publication sits in the channel: {@code (offset, epoch)}. */
    public StreamPosition position() {
        return new StreamPosition(offset, epoch);
    }

    /**
     * The data converted to {@code type} with Jackson.
     *
     * @throws IllegalArgumentException if the data does not fit {@code type}
     */
    public <T> T dataAs(Class<T> type) {
        try {
            return Json.MAPPER.treeToValue(data, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("publication " + offset + " in " + channel + " is not a " + type.getName(), e);
        }
    }
}
