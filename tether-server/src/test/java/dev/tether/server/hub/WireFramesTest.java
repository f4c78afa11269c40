package dev.tether.server.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import java.io.DataInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WireFrames#writeNow}, the write that skips the pipeline, against a real epoll socket on
 * 127.0.0.1 whose peer does not read: it must take only what the kernel accepts, and step aside
 * whenever Netty has bytes queued or the socket is closed.
 */
class WireFramesTest {
    private EventLoopGroup group;
    private ServerSocket listener;
    private Socket peer;
    private Channel channel;
    private ByteBuf bytes;
    private byte[] expected;

    @BeforeEach
    void connect() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll transport");
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        listener = new ServerSocket();
        listener.setReceiveBufferSize(64 * 1024);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        channel = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .option(ChannelOption.SO_SNDBUF, 64 * 1024)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(listener.getLocalSocketAddress()).sync().channel();
        peer = listener.accept();
        expected = new byte[8 * 1024 * 1024]; // far more than both socket buffers hold
        new Random(42).nextBytes(expected);
        bytes = Unpooled.directBuffer(expected.length).writeBytes(expected);
    }

    @AfterEach
    void close() throws Exception {
        if (channel != null) {
            channel.close().sync();
        }
        if (peer != null) {
            peer.close();
        }
        if (listener != null) {
            listener.close();
        }
        if (bytes != null) {
            bytes.release();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private int writeNow(int length) throws Exception {
        return channel.eventLoop().submit(() -> WireFrames.writeNow(channel, bytes.memoryAddress(), length)).get();
    }

    @Test
    void takesOnlyWhatTheKernelAcceptsAndThoseBytesArriveIntact() throws Exception {
        int sent = writeNow(expected.length);
        assertThat(sent).as("a partial write").isPositive().isLessThan(expected.length);
        byte[] got = new byte[sent];
        new DataInputStream(peer.getInputStream()).readFully(got);
        assertThat(got).isEqualTo(java.util.Arrays.copyOf(expected, sent));
    }

    @Test
    void stepsAsideWhileNettyHasBytesQueuedSoTheOrderIsKept() throws Exception {
        int queued = channel.eventLoop().submit(() -> {
            channel.write(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})); // written, not flushed
            return WireFrames.writeNow(channel, bytes.memoryAddress(), 10);
        }).get();
        assertThat(queued).isEqualTo(-1);
        channel.flush();
        InputStream in = peer.getInputStream();
        assertThat(new byte[] {(byte) in.read(), (byte) in.read(), (byte) in.read()}).containsExactly(1, 2, 3);
        assertThat(writeNow(10)).as("nothing queued any more").isEqualTo(10);
    }

    @Test
    void stepsAsideOnAClosedSocket() throws Exception {
        channel.close().sync();
        assertThat(writeNow(10)).isEqualTo(-1);
    }

    @Test
    void stepsAsideWithoutAnAddress() throws Exception {
        assertThat(channel.eventLoop().submit(() -> WireFrames.writeNow(channel, 0, 10)).get()).isEqualTo(-1);
    }
}
