package dev.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * An {@link OffsetStore} in one small JSON file, so that a restarted process continues where
 * the last one stopped. Every save rewrites the file through a temporary file in the same
 * directory and an atomic move, so a crash leaves either the old or the new content.
 *
 * <p>Limits: one client per file (two clients sharing a file would take each other's session
 * over); the whole file is rewritten on each save, which suits tens of channels, not thousands.
 * Thread-safe (guarded by {@code this}).
 */
public final class FileOffsetStore implements OffsetStore {
    private final Path file;
    /** Guarded by {@code this}. */
    private final Map<String, StreamPosition> positions = new HashMap<>();
    /** Guarded by {@code this}. */
    private String session;

    /**
     * Opens {@code file}, reading what it holds; a missing file is an empty store.
     *
     * @throws UncheckedIOException if the file exists but cannot be read or is not a store
     */
    public FileOffsetStore(Path file) {
        this.file = file.toAbsolutePath();
        if (Files.exists(this.file)) {
            read();
        }
    }

    private void read() {
        try {
            JsonNode root = Json.MAPPER.readTree(file.toFile());
            JsonNode s = root.path("session");
            session = s.isTextual() ? s.asText() : null;
            for (Map.Entry<String, JsonNode> e : root.path("channels").properties()) {
                positions.put(e.getKey(), new StreamPosition(e.getValue().path("offset").asLong(), e.getValue().path("epoch").asText()));
            }
        } catch (IOException | RuntimeException e) {
            throw new UncheckedIOException("cannot read offset store " + file, e instanceof IOException io ? io : new IOException(e));
        }
    }

    /** The file this store writes. */
    public Path file() {
        return file;
    }

    @Override
    public synchronized StreamPosition load(String channel) {
        return positions.get(channel);
    }

    @Override
    public synchronized void save(String channel, StreamPosition position) {
        if (position.equals(positions.put(channel, position))) {
            return;
        }
        write();
    }

    @Override
    public synchronized String loadSession() {
        return session;
    }

    @Override
    public synchronized void saveSession(String session) {
        if (session != null && session.equals(this.session)) {
            return;
        }
        this.session = session;
        write();
    }

    /** Caller holds {@code this}. */
    private void write() {
        ObjectNode root = Json.object();
        if (session != null) {
            root.put("session", session);
        }
        ObjectNode channels = root.putObject("channels");
        positions.forEach((channel, p) -> channels.set(channel, Json.position(p)));
        try {
            Path dir = file.getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try {
                Files.write(tmp, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write offset store " + file, e);
        }
    }

    @Override
    public String toString() {
        return "FileOffsetStore[" + file + "]";
    }
}
