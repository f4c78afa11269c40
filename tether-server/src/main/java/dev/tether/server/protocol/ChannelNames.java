package dev.tether.server.protocol;

import java.util.regex.Pattern;

/** Channel name rules of PROTOCOL.md section 4. */
public final class ChannelNames {
    private static final Pattern VALID = Pattern.compile("^[A-Za-z0-9_\\-:.@/=#]{1,255}$");

    private ChannelNames() {
    }

    public static boolean isValid(String name) {
        return name != null && VALID.matcher(name).matches();
    }

    /** The namespace is the part before the first ':'; "" when there is none. */
    public static String namespace(String channel) {
        int colon = channel.indexOf(':');
        return colon < 0 ? "" : channel.substring(0, colon);
    }

    /** A personal channel {@code #alice} may be subscribed only by user alice. */
    public static boolean isPersonal(String channel) {
        return channel.startsWith("#");
    }

    public static String owner(String personalChannel) {
        return personalChannel.substring(1);
    }
}
