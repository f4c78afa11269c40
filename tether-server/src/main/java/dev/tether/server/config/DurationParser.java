package dev.tether.server.config;

import static dev.tether.server.config.ConfigException.quote;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: {@code 250ms}, {@code 25s}, {@code 5m}, {@code 1h}, {@code 2d}, and
 * combinations from the largest unit down such as {@code 1m30s}. A bare number is refused: whether
 * "25" means seconds or milliseconds is exactly the kind of guess that makes a heartbeat misbehave.
 */
public final class DurationParser {
    /** The longest duration any key takes: ten years. */
    public static final Duration MAX = Duration.ofDays(3650);

    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern BARE_NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?");
    /** Largest first; parts of one duration must follow this order, each unit at most once. */
    private static final String[] UNITS = {"d", "h", "m", "s", "ms"};
    private static final ChronoUnit[] CHRONO = {
        ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS, ChronoUnit.MILLIS};

    private DurationParser() {
    }

    /** @throws IllegalArgumentException with a one-line problem that quotes the input */
    public static Duration parse(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty value; expected a duration such as 25s or 200ms");
        }
        if (BARE_NUMBER.matcher(s).matches()) {
            throw new IllegalArgumentException(quote(text) + " needs a unit, e.g. 25s or 200ms");
        }
        Matcher part = PART.matcher(s);
        Duration total = Duration.ZERO;
        int position = 0;
        int previousUnit = -1;
        while (position < s.length()) {
            part.region(position, s.length());
            int unit = part.lookingAt() ? unitIndex(part.group(2)) : -1;
            if (unit <= previousUnit) {
                throw new IllegalArgumentException(quote(text)
                        + " is not a duration; use a number with ms, s, m, h or d, e.g. 25s, 200ms or 1m30s");
            }
            try {
                total = total.plus(Duration.of(Long.parseLong(part.group(1)), CHRONO[unit]));
                total.toMillis(); // the server works in millis; refuse what it could not represent
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException(quote(text) + " is too large");
            }
            previousUnit = unit;
            position = part.end();
        }
        if (total.compareTo(MAX) > 0) {
            // Deadlines are clock millis (or nanos) plus a duration: beyond this they could overflow.
            throw new IllegalArgumentException(quote(text) + " is too large; at most 3650d");
        }
        return total;
    }

    /** The shortest text {@link #parse} reads back as the same duration: 120s prints as 2m. */
    public static String format(Duration duration) {
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        if (duration.getNano() % 1_000_000 != 0) {
            return duration.toString(); // below millisecond precision: ISO-8601 rather than a lie
        }
        if (duration.isZero()) {
            return "0s";
        }
        long millis = duration.toMillis();
        long[] sizes = {86_400_000L, 3_600_000L, 60_000L, 1_000L, 1L};
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < sizes.length; i++) {
            if (millis >= sizes[i]) {
                out.append(millis / sizes[i]).append(UNITS[i]);
                millis %= sizes[i];
            }
        }
        return out.toString();
    }

    private static int unitIndex(String unit) {
        for (int i = 0; i < UNITS.length; i++) {
            if (UNITS[i].equals(unit)) {
                return i;
            }
        }
        throw new AssertionError(unit);
    }
}
