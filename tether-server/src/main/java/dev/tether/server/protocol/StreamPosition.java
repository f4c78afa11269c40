package dev.tether.server.protocol;

/**
 * A place in a channel's history: an offset means something only together with its epoch.
 *
 * <p>Example: a client saw offsets 1..41 of {@code chat:lobby} in epoch {@code e-7c1}, so it holds
 * {@code (41, "e-7c1")}. If the server restarts with an in-memory store the channel starts over in a
 * new epoch {@code e-90b}; offset 41 of {@code e-7c1} then says nothing about offset 41 of
 * {@code e-90b}, and recovery reports an {@code epoch} gap instead of replaying the wrong messages.
 */
public record StreamPosition(long offset, String epoch) {
}
