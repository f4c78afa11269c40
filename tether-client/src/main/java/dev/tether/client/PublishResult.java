package dev.tether.client;

/**
 * The server stored a publication.
 *
 * @param offset    its offset in the channel
 * @param epoch     the channel's epoch
 * @param duplicate true if the server had already stored a publication with this key (a resend
 *                  after a lost reply); {@code offset} is then the first one's
 * @param key       the idempotency key the publication was sent with
 */
public record PublishResult(long offset, String epoch, boolean duplicate, String key) {
}
