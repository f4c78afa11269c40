package dev.tether.server.config;

import dev.tether.server.config.TetherConfig.HistoryPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds a {@link TetherConfig} from, highest precedence first: command-line flags, {@code TETHER_*}
 * environment variables, a YAML file ({@code --config} or {@code TETHER_CONFIG}), the defaults of
 * {@link ConfigKey}. Each key is taken whole from the highest source that gives it; namespaces are
 * taken one namespace at a time. Every failure is a {@link ConfigException} whose one-line message
 * names the key, the source and the problem.
 */
public final class ConfigLoader {
    /** The environment variable naming the YAML file when {@code --config} is not given. */
    public static final String CONFIG_ENV = "TETHER_CONFIG";

    private ConfigLoader() {
    }

    /**
     * @param flags the values given on the command line, by key; only {@link ConfigKey#NAMESPACES} may
     *     hold several (one per {@code --namespace}), any other key uses its last value
     * @param configFile the {@code --config} file, or null to use {@code TETHER_CONFIG} or no file
     * @param env the process environment ({@code System.getenv()}); unknown {@code TETHER_*} names are ignored
     * @throws ConfigException for any unusable value
     */
    public static TetherConfig load(Map<ConfigKey, List<String>> flags, Path configFile, Map<String, String> env) {
        RawConfig file = readFile(configFile, env);
        return resolve(file.overriddenBy(fromEnv(env)).overriddenBy(fromFlags(flags)));
    }

    private static RawConfig readFile(Path configFile, Map<String, String> env) {
        String source = "flag --config";
        if (configFile == null) {
            String fromEnv = env.get(CONFIG_ENV);
            if (fromEnv == null || fromEnv.isBlank()) {
                return RawConfig.EMPTY;
            }
            configFile = Path.of(fromEnv.strip());
            source = "env " + CONFIG_ENV;
        }
        if (!Files.isRegularFile(configFile)) {
            // Reported against whoever named the file: the fix is there.
            throw new ConfigException("config", source, ConfigException.quote(configFile.toString())
                    + (Files.exists(configFile) ? " is not a file" : " does not exist"));
        }
        return YamlConfigFile.read(configFile);
    }

    private static RawConfig fromEnv(Map<String, String> env) {
        Map<ConfigKey, RawConfig.Value> values = new LinkedHashMap<>();
        Map<String, RawConfig.Value> namespaces = new LinkedHashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            String text = env.get(key.envName());
            if (text != null) {
                add(key, text, "env " + key.envName(), values, namespaces);
            }
        }
        return new RawConfig(values, namespaces);
    }

    private static RawConfig fromFlags(Map<ConfigKey, List<String>> flags) {
        Map<ConfigKey, RawConfig.Value> values = new LinkedHashMap<>();
        Map<String, RawConfig.Value> namespaces = new LinkedHashMap<>();
        flags.forEach((key, texts) -> texts.forEach(text -> add(key, text, "flag " + key.flag(), values, namespaces)));
        return new RawConfig(values, namespaces);
    }

    private static void add(ConfigKey key, String text, String origin, Map<ConfigKey, RawConfig.Value> values,
            Map<String, RawConfig.Value> namespaces) {
        if (key != ConfigKey.NAMESPACES) {
            values.put(key, new RawConfig.Value(text, origin));
            return;
        }
        Map<String, String> specs;
        try {
            specs = NamespaceSpecs.split(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key.key(), origin, e.getMessage());
        }
        specs.forEach((name, fields) -> {
            if (namespaces.put(name, new RawConfig.Value(fields, origin)) != null) {
                throw new ConfigException(key.key(), origin, "namespace " + name + " is given twice");
            }
        });
    }

    /** Parses every value against the defaults, then validates the whole, blaming the source of a bad key. */
    private static TetherConfig resolve(RawConfig raw) {
        TetherConfig.Builder builder = TetherConfig.builder();
        // In table order, so that of several bad values the same one is always reported.
        for (ConfigKey key : ConfigKey.values()) {
            RawConfig.Value value = raw.values().get(key);
            if (value != null && key != ConfigKey.NAMESPACES) {
                try {
                    key.apply(builder, key.type().parse(value.text()));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(key.key(), value.origin(), e.getMessage());
                }
            }
        }
        try {
            // Namespaces inherit the fields they leave out from the resolved default history.
            HistoryPolicy base = builder.build().history();
            new TreeMap<>(raw.namespaces()).forEach((name, value) -> {
                try {
                    NamespaceSpecs.checkName(name); // YAML names have not been through split()
                    builder.namespace(name, NamespaceSpecs.resolve(name, value.text(), base));
                } catch (ConfigException e) {
                    throw e.from(value.origin());
                }
            });
            return builder.build();
        } catch (ConfigException e) {
            if (e.source() != null) {
                throw e;
            }
            RawConfig.Value culprit = ConfigKey.byKey(e.key()).map(raw.values()::get).orElse(null);
            throw e.from(culprit == null ? "default" : culprit.origin());
        }
    }
}
