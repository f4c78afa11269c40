package dev.tether.bench.loadgen;

/**
 * What one generator process opens: which server, how many subscriber connections, and which
 * channels each subscribes to. Serialised to JSON to start a worker process with the same spec.
 *
 * <p>Client {@code i} (a global index, so that worker processes never overlap) subscribes to
 * channels {@code (i * subsPerClient + j) % channels} for {@code j < subsPerClient}, named
 * {@code channelPrefix + index}; it binds to source address {@code 127.0.0.(1 + i % sourceAddrs)}.
 *
 * @param url the server's WebSocket URL (127.0.0.1 only)
 * @param firstClient global index of this process's first subscriber
 * @param subscribers subscriber connections in this process
 * @param subsPerClient channels each subscriber subscribes to
 * @param channels number of channels
 * @param clientThreads event loops of this process
 * @param sourceAddrs how many loopback source addresses to spread over (1..250)
 * @param connectRate new connections per second, at most
 * @param maxConnecting connections in their handshake at once, at most
 * @param ackIntervalMillis cumulative ack period; 0 = never ack
 */
public record FleetSpec(String url, int firstClient, int subscribers, int subsPerClient, int channels,
                        String channelPrefix, int clientThreads, int sourceAddrs, int connectRate, int maxConnecting,
                        int ackIntervalMillis) {

    public FleetSpec {
        if (sourceAddrs < 1 || sourceAddrs > 250) {
            throw new IllegalArgumentException("source addresses must be 1..250, got " + sourceAddrs);
        }
        if (subsPerClient > channels) {
            throw new IllegalArgumentException("subscriptions per client (" + subsPerClient + ") exceed channels (" + channels + ")");
        }
    }

    public FleetSpec slice(int first, int count) {
        return new FleetSpec(url, first, count, subsPerClient, channels, channelPrefix, clientThreads, sourceAddrs,
                connectRate, maxConnecting, ackIntervalMillis);
    }

    public String channelName(int index) {
        return channelPrefix + index;
    }
}
