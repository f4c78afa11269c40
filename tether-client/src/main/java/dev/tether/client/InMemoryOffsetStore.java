package dev.tether.client;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link OffsetStore}: keeps positions in memory, so they last as long as the
 * object. Sharing one instance between a closed client and its replacement in the same process
 * carries positions and the session over.
 */
public final class InMemoryOffsetStore implements OffsetStore {
    private final Map<String, StreamPosition> positions = new ConcurrentHashMap<>();
    private volatile String session;

    @Override
    public StreamPosition load(String channel) {
        return positions.get(channel);
    }

    @Override
    public void save(String channel, StreamPosition position) {
        positions.put(channel, position);
    }

    @Override
    public String loadSession() {
        return session;
    }

    @Override
    public void saveSession(String session) {
        this.session = session;
    }
}
