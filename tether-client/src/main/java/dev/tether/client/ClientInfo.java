package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A client as others see it: in presence, in join/leave events and as the author of a
 * publication.
 *
 * @param client the client id (kept across session resumes)
 * @param user   the user from the client's token, {@code ""} for anonymous clients
 * @param info   what the client described itself with at connect, or null
 */
public record ClientInfo(String client, String user, JsonNode info) {
}
