package dev.tether.client;

/**
 * A failed command or a client-side failure. Server errors carry the protocol's error code
 * (101 bad request, 103 permission denied, 108 too large, …); failures that happened in this
 * client carry one of the negative codes below.
 */
public class TetherException extends RuntimeException {
    /** The client was closed or cancelled before the command completed. */
    public static final int CLIENT_CLOSED = -1;
    /** The command got no answer within its timeout (across reconnects). */
    public static final int TIMEOUT = -2;
    /** The message is larger than a frame the server accepts; it was not sent. */
    public static final int TOO_LARGE_TO_SEND = -3;

    /** The error code. */
    private final int code;
    /** Whether a retry may succeed. */
    private final boolean temporary;

    /**
     * @param code      the protocol error code, or one of the negative client-side codes
     * @param message   what went wrong, in words
     * @param temporary true if retrying the same command may succeed
     */
    public TetherException(int code, String message, boolean temporary) {
        super(message);
        this.code = code;
        this.temporary = temporary;
    }

    /** The protocol error code, or a negative client-side code. */
    public int code() {
        return code;
    }

    /** True if the server said that retrying the same command may succeed. */
    public boolean temporary() {
        return temporary;
    }

    @Override
    public String toString() {
        return "TetherException[" + code + (temporary ? ", temporary" : "") + "]: " + getMessage();
    }
}
