package dev.tether.server.broker;

/** Told, on the appending thread, that a channel gained publications up to {@code top}. Must not block. */
@FunctionalInterface
public interface AppendListener {
    void appended(String channel, long top);
}
