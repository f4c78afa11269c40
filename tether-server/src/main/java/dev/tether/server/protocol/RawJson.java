package dev.tether.server.protocol;

import java.util.Arrays;

/**
 * One JSON value as the bytes it arrived in: {@code bytes[from, to)}, already checked by the parser
 * (syntax, UTF-8, nesting depth, duplicate names). {@link Json#readMessage} keeps a publish's
 * {@code data} this way, so the server stores the publisher's bytes instead of building a tree of
 * them and writing it out again.
 */
public record RawJson(byte[] bytes, int from, int to) {

    public RawJson {
        if (from < 0 || to < from || to > bytes.length) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") is outside " + bytes.length + " bytes");
        }
    }

    /** Bytes of the value as it arrived, whitespace included. */
    public int length() {
        return to - from;
    }

    /**
     * The value without whitespace between its tokens: the compact JSON a generator writes, except
     * that numbers and string escapes keep the publisher's spelling ({@code 1.50} stays
     * {@code 1.50}, {@code "\u00e9"} stays escaped). A raw line break can only be whitespace between
     * tokens (inside a string it must be escaped), so the result never holds one: it can be a line
     * of a batched frame.
     */
    public byte[] compact() {
        int n = to - from;
        byte[] out = null;
        int written = 0;
        boolean inString = false;
        boolean escaped = false;
        for (int i = from; i < to; i++) {
            byte b = bytes[i];
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (b == '\\') {
                    escaped = true;
                } else if (b == '"') {
                    inString = false;
                }
            } else if (b == '"') {
                inString = true;
            } else if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                if (out == null) {
                    out = new byte[n];
                    written = i - from;
                    System.arraycopy(bytes, from, out, 0, written);
                }
                continue;
            }
            if (out != null) {
                out[written++] = b;
            }
        }
        return out == null ? Arrays.copyOfRange(bytes, from, to) : Arrays.copyOf(out, written);
    }
}
