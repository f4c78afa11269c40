package dev.tether.server.broker;

/**
 * An append with a new idempotency key was refused: the channel already remembers as many keys as
 * it may within the dedup window. Nothing was stored; the same publish (same key) may succeed once
 * the oldest key has expired, {@link #retryAfterMillis()} from now (other publishers may take the
 * place first, so a client keeps retrying within its own timeout). A resend of a key the channel
 * remembers is never refused (it is answered as a duplicate).
 */
public final class KeyLimitException extends RuntimeException {
    private final long retryAfterMillis;

    /** @param reason why the channel is full, e.g. "it remembers 1000000 publish keys (dedup-max-keys)" */
    public KeyLimitException(String channel, String reason, long retryAfterMillis) {
        super("channel " + channel + " cannot take a new publish key: " + reason + " within the dedup window;"
                + " retry with the same key after " + retryAfterMillis + " ms", null, false, false);
        this.retryAfterMillis = retryAfterMillis;
    }

    /** Milliseconds until the channel's oldest key expires and frees a place (at least 1). */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}
