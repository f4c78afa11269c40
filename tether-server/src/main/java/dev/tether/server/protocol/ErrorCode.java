package dev.tether.server.protocol;

/** Error codes carried in replies (PROTOCOL.md section 11; 106 is Tether's extension, see docs/protocol.md). */
public enum ErrorCode {
    INTERNAL(100, true),
    BAD_REQUEST(101, false),
    UNKNOWN_OP(102, false),
    PERMISSION_DENIED(103, false),
    NOT_CONNECTED(104, false),
    ALREADY_CONNECTED(105, false),
    LIMIT_EXCEEDED(106, false),
    RATE_LIMITED(107, true),
    TOO_LARGE(108, false),
    ALREADY_SUBSCRIBED(110, false),
    NOT_SUBSCRIBED(111, false),
    TOKEN_EXPIRED(112, false);

    private final int code;
    private final boolean temporary;

    ErrorCode(int code, boolean temporary) {
        this.code = code;
        this.temporary = temporary;
    }

    public int code() {
        return code;
    }

    public boolean temporary() {
        return temporary;
    }
}
