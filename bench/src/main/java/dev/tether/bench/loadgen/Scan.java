package dev.tether.bench.loadgen;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Hand-rolled scanning of the few server messages the generator reads on its hot path. It reads
 * the frame's bytes in place (no String, no tree), so a delivery costs the generator a few dozen
 * byte comparisons: far less than the server spends writing it.
 *
 * <p>It relies on the compact field order the servers write ({@code pub}: op, channel, offset,
 * data; the payload the generator itself wrote: {@code {"t":nanos,...}}). Anything else falls
 * back to "not recognised" and is counted, never guessed.
 */
public final class Scan {
    static final byte[] PUB = ascii("{\"op\":\"pub\",\"channel\":\"");
    static final byte[] PING = ascii("{\"op\":\"ping\"}");
    static final byte[] DISCONNECT = ascii("{\"op\":\"disconnect\",\"code\":");
    static final byte[] REPLY = ascii("{\"id\":");
    static final byte[] OFFSET_FIELD = ascii(",\"offset\":");
    static final byte[] DATA_T = ascii(",\"data\":{\"t\":");
    static final byte[] RESULT_OFFSET = ascii(",\"result\":{\"offset\":");
    static final byte[] RESULT = ascii(",\"result\":");
    static final byte[] DUPLICATE_TRUE = ascii("\"duplicate\":true");
    static final long[] PUB_WORDS = words(PUB);
    static final long[] OFFSET_WORDS = words(OFFSET_FIELD);
    static final long[] DATA_T_WORDS = words(DATA_T);

    /** Not a number: the field was absent or malformed. */
    public static final long NONE = Long.MIN_VALUE;

    private Scan() {
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Whether {@code buf} holds {@code prefix} at {@code at} (bounded by {@code end}); 8 bytes per compare. */
    static boolean startsWith(ByteBuf buf, int at, int end, byte[] prefix) {
        return startsWith(buf, at, end, prefix, null);
    }

    /** As {@link #startsWith(ByteBuf, int, int, byte[])} with the prefix's 8-byte words precomputed ({@link #words}). */
    static boolean startsWith(ByteBuf buf, int at, int end, byte[] prefix, long[] words) {
        int n = prefix.length;
        if (end - at < n) {
            return false;
        }
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            if (buf.getLong(at + i) != (words != null ? words[i >> 3] : longAt(prefix, i))) {
                return false;
            }
        }
        for (; i < n; i++) {
            if (buf.getByte(at + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    static long[] words(byte[] b) {
        long[] w = new long[b.length / 8];
        for (int i = 0; i < w.length; i++) {
            w[i] = longAt(b, i * 8);
        }
        return w;
    }

    /** Big-endian long of {@code b[i..i+8)}, as {@link ByteBuf#getLong} reads it. */
    private static long longAt(byte[] b, int i) {
        long v = 0;
        for (int k = 0; k < 8; k++) {
            v = (v << 8) | (b[i + k] & 0xff);
        }
        return v;
    }

    /** Index of {@code b} in [from, end), or -1. */
    static int indexOf(ByteBuf buf, int from, int end, byte b) {
        return from >= end ? -1 : buf.indexOf(from, end, b);
    }

    /** Position of the first occurrence of {@code needle} in [from, end), or -1. Short needles only. */
    static int find(ByteBuf buf, int from, int end, byte[] needle) {
        int last = end - needle.length;
        byte first = needle[0];
        for (int i = from; i <= last; i++) {
            if (buf.getByte(i) == first && startsWith(buf, i, end, needle)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Parses a non-negative decimal integer at {@code at}; {@link #NONE} if there is no digit.
     * {@code stop[0]} receives the index after the last digit (the caller's scratch slot).
     */
    static long number(ByteBuf buf, int at, int end, int[] stop) {
        long v = 0;
        int i = at;
        while (i < end) {
            byte c = buf.getByte(i);
            if (c < '0' || c > '9') {
                break;
            }
            v = v * 10 + (c - '0');
            i++;
        }
        stop[0] = i;
        return i == at ? NONE : v;
    }

    /** The end of a line: the next {@code '\n'} or {@code end}. */
    static int lineEnd(ByteBuf buf, int from, int end) {
        int i = indexOf(buf, from, end, (byte) '\n');
        return i < 0 ? end : i;
    }

    static boolean equalsAt(ByteBuf buf, int from, int to, byte[] expected) {
        return to - from == expected.length && startsWith(buf, from, to, expected);
    }
}
