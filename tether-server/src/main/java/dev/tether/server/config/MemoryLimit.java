package dev.tether.server.config;

import static dev.tether.server.config.ConfigException.quote;

/**
 * An amount of memory given either in bytes ({@code 512MiB}) or as a share of the JVM's maximum heap
 * ({@code 25%}), so that a default can follow the heap the operator gives the server.
 *
 * @param bytes the size in bytes, or 0 when given as a percentage
 * @param percentOfHeap 1 to 100, or 0 when given in bytes
 */
public record MemoryLimit(long bytes, int percentOfHeap) {
    /** The smallest size in bytes accepted: less could not hold one largest publication. */
    public static final long MIN_BYTES = 64 << 10;

    public MemoryLimit {
        if ((bytes == 0) == (percentOfHeap == 0)) {
            throw new IllegalArgumentException("exactly one of bytes and percentOfHeap, got " + bytes + " and "
                    + percentOfHeap);
        }
        if (percentOfHeap < 0 || percentOfHeap > 100) {
            throw new IllegalArgumentException("a percentage of the heap is 1 to 100, got " + percentOfHeap);
        }
        if (bytes != 0 && bytes < MIN_BYTES) {
            throw new IllegalArgumentException("at least " + SizeParser.format(MIN_BYTES) + ", got " + bytes + " bytes");
        }
    }

    /**
     * {@code 25%} or a size as {@link SizeParser} reads it.
     *
     * @throws IllegalArgumentException with a one-line problem that quotes the input
     */
    public static MemoryLimit parse(String text) {
        String s = text.strip();
        if (s.endsWith("%")) {
            String number = s.substring(0, s.length() - 1).strip();
            int percent;
            try {
                percent = number.matches("\\d{1,3}") ? Integer.parseInt(number) : -1;
            } catch (NumberFormatException e) {
                percent = -1;
            }
            if (percent < 1 || percent > 100) {
                throw new IllegalArgumentException(quote(text)
                        + " is not a share of the heap; use a whole percentage from 1% to 100%, e.g. 25%");
            }
            return new MemoryLimit(0, percent);
        }
        long bytes;
        try {
            bytes = SizeParser.parseLong(s);
        } catch (IllegalArgumentException e) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty value; expected a size such as 512MiB or a share of the"
                        + " heap such as 25%");
            }
            throw new IllegalArgumentException(quote(text) + " is not a size or a share of the heap; use bytes,"
                    + " KiB, MiB or GiB (e.g. 512MiB) or a percentage of the heap (e.g. 25%)");
        }
        if (bytes < MIN_BYTES) {
            throw new IllegalArgumentException(quote(text) + " is too small; the minimum is "
                    + SizeParser.format(MIN_BYTES));
        }
        return new MemoryLimit(bytes, 0);
    }

    /** The limit in bytes for a JVM whose maximum heap is {@code maxHeapBytes}. */
    public long resolve(long maxHeapBytes) {
        return bytes != 0 ? bytes : Math.max(MIN_BYTES, maxHeapBytes / 100 * percentOfHeap);
    }

    /** As written: {@code 25%} or {@code 512MiB}; {@link #parse} reads it back. */
    @Override
    public String toString() {
        return bytes != 0 ? SizeParser.format(bytes) : percentOfHeap + "%";
    }
}
