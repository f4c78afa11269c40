package dev.tether.bench.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The publishing side of a {@link BenchClient}: sends {@code publish} commands at a steady rate
 * (or as fast as replies come back, with a bounded number outstanding), each carrying its send
 * time in the payload, and records the reply latency and each channel's highest offset.
 *
 * <p>Owner: the client's event loop. {@link #setRate} and {@link #stop} hop onto it.
 *
 * <p>Payload: {@code {"t":<System.nanoTime at send>,"p":"xxx…"}} padded to the configured size.
 * {@code nanoTime} is CLOCK_MONOTONIC, shared by every process of the machine, so a subscriber in
 * another generator process can subtract it too.
 */
public final class Publisher {
    /** Outstanding publishes are tracked in a ring indexed by id; the outstanding bound must fit. */
    static final int RING = 1 << 14;
    private static final long TICK_MILLIS = 2;
    private static final byte[] PAD = "x".repeat(1 << 16).getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * @param channels channel indices this publisher cycles through
     * @param ratePerSecond publications per second; 0 = closed loop (as fast as {@code maxOutstanding} allows)
     * @param payloadBytes size of the data JSON
     * @param keys whether each publish carries an idempotency key
     * @param maxCount bound on publications sent by this publisher
     * @param deadlineNanos nothing is sent after this {@link System#nanoTime()}
     */
    public record Plan(int[] channels, double ratePerSecond, int maxOutstanding, int payloadBytes, boolean keys,
                       long maxCount, long deadlineNanos) {
    }

    private final BenchClient client;
    private final FleetStats stats;
    private final String[] channelNames;
    private final LocalFleet fleet;
    private Plan plan;
    private final long[] sentAt = new long[RING];
    private final int[] sentChannel = new int[RING];
    private long nextId = BenchClient.PUBLISH_ID_BASE;
    private long sent;
    private long sentAtRateStart;
    private long rateStartNanos;
    private int outstanding;
    private boolean started;
    private boolean stopped;
    private ScheduledFuture<?> ticker;
    private final int[] stop = new int[1];

    Publisher(BenchClient client, LocalFleet fleet, Plan plan) {
        this.client = client;
        this.fleet = fleet;
        this.stats = fleet.stats;
        this.channelNames = fleet.channelNames;
        this.plan = plan;
        if (plan.maxOutstanding() > RING) {
            throw new IllegalArgumentException("at most " + RING + " outstanding publishes");
        }
    }

    void start() {
        started = true;
        rateStartNanos = System.nanoTime();
        sentAtRateStart = sent;
        if (plan.ratePerSecond() > 0) {
            ticker = client.loop.scheduleAtFixedRate(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            refill();
            client.flush();
        }
    }

    /** Changes the rate from now on (max mode). Any thread. */
    public void setRate(double perSecond, long deadlineNanos) {
        client.loop.execute(() -> {
            Plan p = plan;
            double seconds = Math.max(0, (deadlineNanos - System.nanoTime()) / 1e9);
            long maxCount = sent + (long) (perSecond * seconds * 1.2) + 1000;
            plan = new Plan(p.channels(), perSecond, p.maxOutstanding(), p.payloadBytes(), p.keys(), maxCount, deadlineNanos);
            stopped = false;
            rateStartNanos = System.nanoTime();
            sentAtRateStart = sent;
            if (ticker == null && started && perSecond > 0) {
                ticker = client.loop.scheduleAtFixedRate(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
    }

    /** Stops sending. Any thread. */
    public void halt() {
        client.loop.execute(this::stop);
    }

    void stop() {
        stopped = true;
        if (ticker != null) {
            ticker.cancel(false);
            ticker = null;
        }
    }

    private void tick() {
        long now = System.nanoTime();
        if (stopped || now - plan.deadlineNanos() > 0) {
            stop();
            return;
        }
        long due = sentAtRateStart + (long) ((now - rateStartNanos) / 1e9 * plan.ratePerSecond());
        if (sendUpTo(due, now)) {
            client.flush();
        }
    }

    /** Closed loop: top up the outstanding publishes after replies came in. */
    void refill() {
        if (!started || stopped || plan.ratePerSecond() > 0) {
            return;
        }
        long now = System.nanoTime();
        if (now - plan.deadlineNanos() > 0) {
            stop();
            return;
        }
        sendUpTo(Long.MAX_VALUE, now);
    }

    private boolean sendUpTo(long due, long now) {
        if (!client.writable()) {
            return false;
        }
        ByteBuf out = null;
        while (sent < due && outstanding < plan.maxOutstanding() && sent < plan.maxCount()) {
            if (out == null) {
                out = fleet.alloc().buffer(plan.payloadBytes() + 128);
            } else {
                out.writeByte('\n');
            }
            long id = nextId++;
            int[] chans = plan.channels();
            int ci = chans[(int) (sent % chans.length)];
            encode(out, id, ci, now);
            sentAt[(int) (id & (RING - 1))] = now;
            sentChannel[(int) (id & (RING - 1))] = ci;
            sent++;
            outstanding++;
            stats.published.increment();
        }
        if (out != null) {
            client.write(out);
            return true;
        }
        return false;
    }

    private void encode(ByteBuf out, long id, int channel, long now) {
        ByteBufUtil.writeAscii(out, "{\"id\":");
        ByteBufUtil.writeAscii(out, Long.toString(id));
        ByteBufUtil.writeAscii(out, ",\"op\":\"publish\",\"channel\":\"");
        ByteBufUtil.writeAscii(out, channelNames[channel]);
        ByteBufUtil.writeAscii(out, "\",\"data\":{\"t\":");
        String t = Long.toString(now);
        ByteBufUtil.writeAscii(out, t);
        ByteBufUtil.writeAscii(out, ",\"p\":\"");
        // {"t": + digits + ,"p":" + pad + "} adds up to payloadBytes.
        int pad = Math.max(0, plan.payloadBytes() - (5 + t.length() + 6 + 2));
        out.writeBytes(PAD, 0, Math.min(pad, PAD.length));
        ByteBufUtil.writeAscii(out, "\"}");
        if (plan.keys()) {
            ByteBufUtil.writeAscii(out, ",\"key\":\"k");
            ByteBufUtil.writeAscii(out, Integer.toString(client.index));
            out.writeByte('-');
            ByteBufUtil.writeAscii(out, Long.toString(id));
            out.writeByte('"');
        }
        out.writeByte('}');
    }

    void onReply(long id, ByteBuf buf, int at, int end) {
        outstanding--;
        stats.publishReplies.increment();
        int slot = (int) (id & (RING - 1));
        long micros = (System.nanoTime() - sentAt[slot]) / 1000;
        stats.publishLatency.recordValue(Math.min(FleetStats.MAX_MICROS, Math.max(1, micros)));
        if (!Scan.startsWith(buf, at, end, Scan.RESULT_OFFSET)) {
            stats.errorReplies.increment();
            return;
        }
        long offset = Scan.number(buf, at + Scan.RESULT_OFFSET.length, end, stop);
        if (offset != Scan.NONE) {
            fleet.tops.accumulateAndGet(sentChannel[slot], offset, Math::max);
        }
        if (Scan.find(buf, stop[0], end, Scan.DUPLICATE_TRUE) >= 0) {
            stats.duplicateReplies.increment();
        }
    }

    /** Publishes sent but not yet answered. Event loop only. */
    int outstanding() {
        return outstanding;
    }
}
