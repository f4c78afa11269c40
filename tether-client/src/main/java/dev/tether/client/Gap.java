package dev.tether.client;

/**
 * Publications a subscription missed and will never receive: offsets {@code from..to}
 * inclusive. The application reloads what it needs with {@link TetherClient#history}.
 *
 * @param from   first missing offset, or -1 when unknown ({@link #EPOCH} gaps)
 * @param to     last missing offset, or -1 when unknown
 * @param reason {@link #RETENTION}, {@link #EPOCH} or {@link #UNKNOWN}
 */
public record Gap(long from, long to, String reason) {
    /** The publications are older than what the server's history keeps. */
    public static final String RETENTION = "retention";
    /**
     * The channel's history was lost or reset (new epoch); the subscription continues live
     * after the channel's current offset. {@code from} and {@code to} are -1.
     */
    public static final String EPOCH = "epoch";
    /** A reason this client version does not know (sent by a newer server). */
    public static final String UNKNOWN = "unknown";
}
