package dev.tether.server.presence;

/**
 * A client as presence shows it.
 *
 * @param client the client id (stable for a session, so a resume keeps the same presence entry)
 * @param user the user id, "" for anonymous
 * @param infoJson optional JSON object describing the client (from the token's {@code info} claim or
 *     {@code connect.info}), or null
 */
public record ClientInfo(String client, String user, String infoJson) {
}
