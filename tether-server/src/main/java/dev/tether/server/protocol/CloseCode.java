package dev.tether.server.protocol;

/**
 * Codes the server closes with on its own initiative (PROTOCOL.md section 12).
 * 4000-4499 tell the client to reconnect and resume; 4500-4999 tell it not to.
 */
public enum CloseCode {
    SHUTDOWN(4000, "server shutting down"),
    NO_PONG(4001, "no pong in time"),
    SLOW_CONSUMER(4002, "slow consumer fell out of history"),
    OVERLOADED(4003, "server overloaded or connection limit reached"),
    NO_CONNECT(4004, "no connect in time"),
    PROTOCOL_VIOLATION(4500, "protocol violation"),
    UNAUTHORIZED(4501, "unauthorized"),
    TAKEN_OVER(4502, "session taken over by another connection"),
    FORBIDDEN(4503, "forbidden");

    private final int code;
    private final String reason;

    CloseCode(int code, String reason) {
        this.code = code;
        this.reason = reason;
    }

    public int code() {
        return code;
    }

    public String reason() {
        return reason;
    }

    public boolean reconnect() {
        return code < 4500;
    }

    /** A close that keeps the session for resume (the client is told to come back). */
    public boolean keepsSession() {
        return reconnect();
    }
}
