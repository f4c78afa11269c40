package dev.tether.bench.server;

/**
 * A snapshot of the server process.
 *
 * @param heapUsedBytes Java heap in use (after a full GC when asked for)
 * @param directBytes NIO direct buffers (java.nio BufferPool "direct")
 * @param nettyDirectBytes direct memory Netty's allocator holds, -1 when it does not say
 * @param rssKib resident set size of the process
 * @param cpuTicks CPU time of the process so far, 1/100 s
 * @param ioCpuNanos CPU time of the server's event-loop threads so far, in nanoseconds; -1 when unknown
 * @param connections WebSocket connections the server holds
 * @param deliveries publications the server has written to subscribers so far
 */
public record ServerStats(long heapUsedBytes, long directBytes, long nettyDirectBytes, long rssKib, long cpuTicks,
                          long ioCpuNanos, long connections, long deliveries, long openFiles) {
}
