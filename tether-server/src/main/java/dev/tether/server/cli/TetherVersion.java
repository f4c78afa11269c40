package dev.tether.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code tether --version}: the Maven version the jar was built as, and the Java it runs on. */
public final class TetherVersion implements IVersionProvider {
    /** Written into every jar by Maven; absent when running from an IDE or target/classes. */
    private static final String POM_PROPERTIES = "/META-INF/maven/dev.tether/tether-server/pom.properties";

    @Override
    public String[] getVersion() {
        return new String[] {
            "tether " + version(),
            "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
        };
    }

    public static String version() {
        try (InputStream in = TetherVersion.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // fall through: a version string is not worth failing over
        }
        return "development build";
    }
}
