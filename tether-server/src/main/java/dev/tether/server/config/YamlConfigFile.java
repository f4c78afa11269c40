package dev.tether.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a tether.yml: the flat kebab-case keys of {@link ConfigKey}, plus {@code namespaces:} mapping
 * each namespace to its {@code history-size} and {@code history-age}. It is read as a token stream
 * rather than a tree so that every value keeps its line number for error messages.
 */
final class YamlConfigFile {
    private static final YAMLFactory YAML = YAMLFactory.builder().build();

    private YamlConfigFile() {
    }

    /** @throws ConfigException for an unreadable file, bad YAML, or an unknown or repeated key */
    static RawConfig read(Path file) {
        String name = file.toString();
        try (Reader reader = Files.newBufferedReader(file); JsonParser parser = YAML.createParser(reader)) {
            return new YamlConfigFile.Reading(parser, name).read();
        } catch (JsonProcessingException e) {
            throw notYaml(name, e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(null, name, "not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException(null, name, "cannot be read: " + e);
        }
    }

    /** One pass over one file. */
    private static final class Reading {
        private final JsonParser parser;
        private final String name;
        private final Map<ConfigKey, RawConfig.Value> values = new LinkedHashMap<>();
        private final Map<String, RawConfig.Value> namespaces = new LinkedHashMap<>();
        private final Map<String, Integer> lineOfKey = new HashMap<>();

        Reading(JsonParser parser, String name) {
            this.parser = parser;
            this.name = name;
        }

        RawConfig read() throws IOException {
            JsonToken token = parser.nextToken();
            if (token == null || token == JsonToken.VALUE_NULL) {
                return RawConfig.EMPTY; // an empty file, or one with only comments
            }
            if (token != JsonToken.START_OBJECT) {
                throw new ConfigException(null, here(), "expected key: value lines at the top level");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                String origin = here();
                Integer first = lineOfKey.putIfAbsent(key, line());
                if (first != null) {
                    throw new ConfigException(key, origin, "given twice, first on line " + first);
                }
                if (key.equals(ConfigKey.NAMESPACES.key())) {
                    readNamespaces();
                } else {
                    ConfigKey configKey = ConfigKey.byKey(key).orElseThrow(() -> unknownKey(key, origin));
                    values.put(configKey, new RawConfig.Value(scalar(key, configKey.type() == ValueType.LIST), origin));
                }
            }
            return new RawConfig(values, namespaces);
        }

        /** {@code namespaces: {chat: {history-size: 100, history-age: 10m}}}. */
        private void readNamespaces() throws IOException {
            JsonToken token = parser.nextToken();
            if (token == JsonToken.VALUE_NULL) {
                throw new ConfigException(ConfigKey.NAMESPACES.key(), here(),
                        "empty value; leave the key out for no namespaces, or give e.g. chat: {history-size: 100, history-age: 10m}");
            }
            if (token != JsonToken.START_OBJECT) {
                throw new ConfigException(ConfigKey.NAMESPACES.key(), here(),
                        "expected a mapping of namespace names, e.g. chat: {history-size: 100, history-age: 10m}");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String namespace = parser.currentName();
                String origin = here();
                String key = ConfigKey.NAMESPACES.key() + "." + namespace;
                if (namespaces.containsKey(namespace)) {
                    throw new ConfigException(key, origin, "given twice");
                }
                // Turned into the flag syntax so one parser checks the fields of all three sources.
                StringJoiner fields = new StringJoiner(",");
                JsonToken value = parser.nextToken();
                if (value == JsonToken.START_OBJECT) {
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String field = parser.currentName();
                        fields.add(field + ":" + scalar(key + "." + field, false));
                    }
                } else if (value != JsonToken.VALUE_NULL) {
                    throw new ConfigException(key, origin, "expected history-size and history-age below it");
                }
                namespaces.put(namespace, new RawConfig.Value(fields.toString(), origin));
            }
        }

        /** The next value as text; a list is joined with commas when the key takes a list. */
        private String scalar(String key, boolean listAllowed) throws IOException {
            JsonToken token = parser.nextToken();
            if (token.isScalarValue() && token != JsonToken.VALUE_NULL) {
                return parser.getText();
            }
            if (token == JsonToken.VALUE_NULL) {
                throw new ConfigException(key, here(), "has no value; leave the key out to use the default");
            }
            if (token == JsonToken.START_ARRAY && listAllowed) {
                List<String> items = new ArrayList<>();
                while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                    if (!token.isScalarValue()) {
                        throw new ConfigException(key, here(), "expected a list of plain values");
                    }
                    items.add(parser.getText());
                }
                return String.join(",", items);
            }
            throw new ConfigException(key, here(), "expected a single value, not a "
                    + (token == JsonToken.START_ARRAY ? "list" : "mapping"));
        }

        private ConfigException unknownKey(String key, String origin) {
            List<String> known = Arrays.stream(ConfigKey.values()).map(ConfigKey::key).toList();
            String hint = Suggestions.nearest(key, known).map(k -> "; did you mean " + k + "?")
                    .orElse("; see tether serve --help for the keys");
            return new ConfigException(key, origin, "unknown key" + hint);
        }

        private int line() {
            return parser.currentTokenLocation().getLineNr();
        }

        private String here() {
            return name + ":" + line();
        }
    }

    /** SnakeYAML's message spans lines and quotes the file; keep the problem, its context and the line. */
    private static ConfigException notYaml(String name, JsonProcessingException e) {
        int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
        String problem = e.getOriginalMessage() == null ? "unexpected content"
                : e.getOriginalMessage().strip().lines().findFirst().orElse("unexpected content");
        if (e.getCause() instanceof MarkedYAMLException snake && snake.getProblem() != null) {
            problem = snake.getProblem().strip() + (snake.getContext() == null ? "" : " " + snake.getContext().strip());
            line = snake.getProblemMark() == null ? line : snake.getProblemMark().getLine() + 1;
            if (problem.contains("alias")) {
                problem += "; a value starting with * must be quoted, e.g. \"*\"";
            }
        }
        return new ConfigException(null, line > 0 ? name + ":" + line : name, "not valid YAML: " + problem);
    }
}
