package dev.tether.server.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;

/**
 * A block of direct memory that publications are encoded into one after another, so that a busy
 * channel pays for one buffer object, one {@code DirectByteBuffer} and one {@code Cleaner} per block
 * instead of per publication. The memory is freed by the garbage collector once no publication
 * carved from it (and no view of one in flight) is reachable.
 *
 * <p>Not thread-safe: its owner (a channel's log, under its monitor) carves and counts; readers only
 * ever see the finished bytes of publications through {@link Publication}.
 */
public final class Slab {
    /**
     * Heap of one block besides the publications carved from it: the buffer object over its memory,
     * the JDK's {@code DirectByteBuffer}, its {@code Cleaner} and deallocator, and this object.
     * Measured with {@code dev.tether.bench.tools.PublicationMemory}: 384 B per publication with a block
     * each, of which 64 are the publication (BENCHMARKS.md, change 21).
     */
    public static final int HEAP_BYTES = 320;

    private final ByteBuf memory;
    private int used;
    private int live;

    private Slab(int capacity) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(capacity);
        this.memory = PlatformDependent.hasUnsafe() ? new Publication.SharedDirectBuf(bytes)
                : Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes));
    }

    /** A block of {@code capacity} bytes. */
    public static Slab allocate(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        return new Slab(capacity);
    }

    public int capacity() {
        return memory.capacity();
    }

    /** Bytes not yet carved. */
    public int remaining() {
        return memory.capacity() - used;
    }

    /** Takes the next {@code length} bytes; returns where they start. */
    int carve(int length) {
        if (length > remaining()) {
            throw new IllegalStateException("no room for " + length + " bytes, " + remaining() + " left");
        }
        int at = used;
        used += length;
        return at;
    }

    /** The shared buffer over the whole block; never released. */
    ByteBuf memory() {
        return memory;
    }

    /** For the owner: publications carved from this block that it still holds. */
    public int live() {
        return live;
    }

    public void hold() {
        live++;
    }

    /** Returns the publications still held after letting go of one. */
    public int letGo() {
        if (live == 0) {
            throw new IllegalStateException("no publication of this block is held");
        }
        return --live;
    }
}
