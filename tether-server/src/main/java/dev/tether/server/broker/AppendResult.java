package dev.tether.server.broker;

/** Where a publication was stored; {@code duplicate} when its key was seen within the dedup window. */
public record AppendResult(long offset, String epoch, boolean duplicate) {
}
