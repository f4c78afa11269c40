package dev.tether.server.config;

import static dev.tether.server.config.ConfigException.quote;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes: a plain number of bytes or a binary multiple, {@code 65536}, {@code 64KiB}, {@code 1MiB},
 * {@code 1GiB}. "KB" and "MB" are refused because half the world reads them as 1000 and half as 1024.
 */
public final class SizeParser {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(KiB|MiB|GiB)?");
    private static final String[] UNITS = {"GiB", "MiB", "KiB"};
    private static final long[] MULTIPLIERS = {1L << 30, 1L << 20, 1L << 10};

    private SizeParser() {
    }

    /** @throws IllegalArgumentException with a one-line problem that quotes the input */
    public static int parse(String text) {
        long bytes = bytesOrOverflow(text);
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(quote(text) + " is too large; the maximum is "
                    + Integer.MAX_VALUE + " bytes");
        }
        return (int) bytes;
    }

    /** As {@link #parse}, for sizes beyond 2 GiB. */
    public static long parseLong(String text) {
        long bytes = bytesOrOverflow(text);
        if (bytes < 0) {
            throw new IllegalArgumentException(quote(text) + " is too large; the maximum is "
                    + Long.MAX_VALUE + " bytes");
        }
        return bytes;
    }

    /** The size, or -1 when it does not fit in a long. */
    private static long bytesOrOverflow(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty value; expected a size such as 65536 or 64KiB");
        }
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException(quote(text)
                    + " is not a size; use a number of bytes or KiB, MiB, GiB, e.g. 65536 or 64KiB");
        }
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), multiplier(m.group(2)));
        } catch (NumberFormatException | ArithmeticException e) {
            return -1;
        }
    }

    /** The shortest text {@link #parse} reads back as the same size: 65536 prints as 64KiB. */
    public static String format(long bytes) {
        for (int i = 0; i < UNITS.length; i++) {
            if (bytes != 0 && bytes % MULTIPLIERS[i] == 0) {
                return bytes / MULTIPLIERS[i] + UNITS[i];
            }
        }
        return Long.toString(bytes);
    }

    private static long multiplier(String unit) {
        if (unit == null) {
            return 1;
        }
        for (int i = 0; i < UNITS.length; i++) {
            if (UNITS[i].equals(unit)) {
                return MULTIPLIERS[i];
            }
        }
        throw new AssertionError(unit);
    }
}
