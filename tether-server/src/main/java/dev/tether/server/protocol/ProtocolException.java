package dev.tether.server.protocol;

/** A command that cannot be executed; becomes an error reply with {@link #code()}. */
public final class ProtocolException extends RuntimeException {
    private final ErrorCode code;
    private final long retryAfterMillis;

    public ProtocolException(ErrorCode code, String message) {
        this(code, message, -1);
    }

    public ProtocolException(ErrorCode code, String message, long retryAfterMillis) {
        super(message, null, false, false);
        this.code = code;
        this.retryAfterMillis = retryAfterMillis;
    }

    public ErrorCode code() {
        return code;
    }

    /** Milliseconds the client should wait before retrying, or -1 when not given. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}
