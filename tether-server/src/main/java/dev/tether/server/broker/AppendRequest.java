package dev.tether.server.broker;

/**
 * What a publisher asks to store.
 *
 * @param data compact JSON, already checked against maxPublicationBytes
 * @param key idempotency key (at most 128 chars), or null
 * @param fromUser publishing user, or null for a server-side publish
 * @param fromClient publishing client id, or null for a server-side publish
 */
public record AppendRequest(byte[] data, String key, String fromUser, String fromClient) {
}
