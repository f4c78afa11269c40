package dev.tether.client;

/**
 * Options of {@link TetherClient#subscribe(String, SubscriptionListener, SubscribeOptions)}.
 * Immutable; {@code SubscribeOptions.defaults().presence(true).since(pos)}.
 */
public final class SubscribeOptions {
    private static final SubscribeOptions DEFAULTS = new SubscribeOptions(null, false);

    private final StreamPosition since;
    private final boolean presence;

    private SubscribeOptions(StreamPosition since, boolean presence) {
        this.since = since;
        this.presence = presence;
    }

    /** No {@code since} (start from the offset store, else live), no presence events. */
    public static SubscribeOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Deliver every publication after {@code since} first (null: start from the client's
     * {@link OffsetStore}, or live when it has nothing for the channel).
     */
    public SubscribeOptions since(StreamPosition since) {
        return new SubscribeOptions(since, presence);
    }

    /** Also receive {@code onJoin}/{@code onLeave} for the channel. */
    public SubscribeOptions presence(boolean presence) {
        return new SubscribeOptions(since, presence);
    }

    /** The position to continue after, or null. */
    public StreamPosition since() {
        return since;
    }

    /** Whether join/leave events are wanted. */
    public boolean presence() {
        return presence;
    }

    @Override
    public String toString() {
        return "SubscribeOptions[since=" + since + ", presence=" + presence + "]";
    }
}
