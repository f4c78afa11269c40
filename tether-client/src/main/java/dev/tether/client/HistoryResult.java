package dev.tether.client;

import java.util.List;

/**
 * A page of a channel's history.
 *
 * @param publications in ascending offset order
 * @param offset       the channel's current offset
 * @param epoch        the channel's current epoch
 * @param gap          null, or what is missing between the requested {@code since} and the first
 *                     publication returned
 */
public record HistoryResult(List<Publication> publications, long offset, String epoch, Gap gap) {

    /** Copies {@code publications}. */
    public HistoryResult {
        publications = List.copyOf(publications);
    }
}
