package dev.tether.server.config;

import java.time.Duration;

/** Validation helpers for {@link TetherConfig}; each failure names the key, as every config message must. */
final class Checks {
    private Checks() {
    }

    static <T> T required(ConfigKey key, T value) {
        if (value == null) {
            throw new ConfigException(key.key(), "must be set");
        }
        return value;
    }

    static Duration positive(ConfigKey key, Duration value) {
        required(key, value);
        if (value.isZero() || value.isNegative()) {
            throw new ConfigException(key.key(), "must be positive, got " + DurationParser.format(value));
        }
        return value;
    }

    static Duration notNegative(ConfigKey key, Duration value) {
        required(key, value);
        if (value.isNegative()) {
            throw new ConfigException(key.key(), "must not be negative, got " + DurationParser.format(value));
        }
        return value;
    }

    static int atLeast(ConfigKey key, int value, int min) {
        if (value < min) {
            throw new ConfigException(key.key(), "must be at least " + min + ", got " + value);
        }
        return value;
    }

    static int between(ConfigKey key, int value, int min, int max) {
        if (value < min || value > max) {
            throw new ConfigException(key.key(), "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    static String notBlank(ConfigKey key, String value) {
        if (required(key, value).isBlank()) {
            throw new ConfigException(key.key(), "must not be empty");
        }
        return value;
    }

    /** Null means "off" or "none"; an empty string would be a silent way to get the same, so refuse it. */
    static String nullOrNotBlank(ConfigKey key, String value) {
        return value == null ? null : notBlank(key, value);
    }

    /** Characters a path may hold as it is, without percent-encoding (RFC 3986 pchar and '/'). */
    private static final java.util.regex.Pattern PLAIN_PATH = java.util.regex.Pattern.compile("/[A-Za-z0-9._~!$&'()*+,;=:@/-]*");

    static String urlPath(ConfigKey key, String value) {
        if (value != null && !PLAIN_PATH.matcher(value).matches()) {
            // '#', '%', spaces or non-ASCII would give an endpoint no client can name as configured.
            throw new ConfigException(key.key(), "must be a URL path starting with '/' of letters, digits and"
                    + " - . _ ~ ! $ & ' ( ) * + , ; = : @ / only, got " + ConfigException.quote(value));
        }
        return value;
    }
}
