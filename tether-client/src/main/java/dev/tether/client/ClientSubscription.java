package dev.tether.client;

import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One channel subscription of the application: its listener, its exactly-once filter and its
 * acknowledgement state, kept across connections.
 *
 * <p>Threads: {@link #status}, {@link #dedupe} and {@link #savedPosition} belong to the client's
 * event loop. Listener calls run on {@link #callbacks}, a serial executor, which alone writes
 * {@link #position}. {@link #closed} is set once by whoever ends the subscription.
 */
final class ClientSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(ClientSubscription.class);

    /** Where the subscription stands on the current connection. */
    enum Status {
        /** Not requested on the current connection (or there is none). */
        WAITING,
        /** {@code subscribe} sent, no result yet; publications are not accepted. */
        SUBSCRIBING,
        /** Confirmed: publications are filtered and delivered. */
        ACTIVE
    }

    private final String channel;
    private final SubscriptionListener listener;
    private final SubscribeOptions options;
    private final Subscriptions owner;
    final SerialExecutor callbacks;
    final AckBatcher acks = new AckBatcher();
    /** Loop only. */
    final Dedupe dedupe = new Dedupe();
    /** Loop only. */
    Status status = Status.WAITING;
    /** The last position handed to the offset store. Loop only. */
    StreamPosition savedPosition;
    /** Written only by {@link #callbacks}. */
    private volatile StreamPosition position;
    /** Set once: no listener call starts after. */
    private volatile boolean closed;

    ClientSubscription(String channel, SubscriptionListener listener, SubscribeOptions options, Subscriptions owner,
                       SerialExecutor callbacks) {
        this.channel = channel;
        this.listener = listener;
        this.options = options;
        this.owner = owner;
        this.callbacks = callbacks;
    }

    @Override
    public String channel() {
        return channel;
    }

    @Override
    public StreamPosition position() {
        return position;
    }

    @Override
    public CompletableFuture<Void> unsubscribe() {
        return owner.unsubscribe(this);
    }

    boolean presence() {
        return options.presence();
    }

    boolean isClosed() {
        return closed;
    }

    /** Loop: where a {@code subscribe} on a new connection asks to continue from, or null for live. */
    StreamPosition since() {
        return dedupe.last() != null ? dedupe.last() : options.since();
    }

    /** Loop: the epoch publications are currently received in, or null before the first confirmation. */
    String epoch() {
        StreamPosition last = dedupe.last();
        return last == null ? null : last.epoch();
    }

    /**
     * Loop: the server confirmed the subscription. Works out where delivery continues and tells
     * the listener, with a gap event when publications were lost.
     *
     * @param top     the channel's current offset and epoch from the result
     * @param since   what was asked for ({@link #since()} for a subscribe; the last position
     *                received for a resumed one), or null for a live start
     * @param gap     the result's gap, or null
     * @param resumed the server restored the subscription with the session
     */
    SubscriptionRecovery confirmed(StreamPosition top, StreamPosition since, Gap gap, boolean resumed) {
        StreamPosition start;
        if (since == null) {
            start = top;
        } else if (!since.epoch().equals(top.epoch()) || (gap != null && Gap.EPOCH.equals(gap.reason()))) {
            start = top;
            gap = new Gap(-1, -1, Gap.EPOCH);
        } else if (gap != null && gap.to() > since.offset()) {
            // A resumed session may report a gap from the server's last ack; only the part after
            // what this client already received is really missing.
            gap = new Gap(Math.max(gap.from(), since.offset() + 1), gap.to(), gap.reason());
            start = new StreamPosition(gap.to(), top.epoch());
        } else if (gap != null && gap.to() >= 0) {
            gap = null;
            start = since;
        } else {
            start = since;
        }
        dedupe.reset(start);
        status = Status.ACTIVE;
        SubscribedEvent event = new SubscribedEvent(channel, start, resumed, gap == null);
        Gap missed = gap;
        run(() -> {
            position = start;
            listener.onSubscribed(event);
            if (missed != null) {
                listener.onGap(channel, missed.from(), missed.to(), missed.reason());
            }
        });
        if (missed != null) {
            log.info("subscription {} lost publications {}..{} ({}); continues after {}", channel, missed.from(), missed.to(),
                    missed.reason(), start);
        }
        return new SubscriptionRecovery(channel, top, resumed, gap == null, gap);
    }

    /** Loop: hands the next publication to the listener. */
    void deliver(Publication p) {
        run(() -> {
            try {
                listener.onPublication(p);
            } finally {
                position = p.position();
                if (acks.handled()) {
                    owner.flushSoon(this);
                }
            }
        });
    }

    /** Loop: a join or leave in the channel. */
    void presenceEvent(ClientInfo who, boolean joined) {
        run(() -> {
            if (joined) {
                listener.onJoin(who);
            } else {
                listener.onLeave(who);
            }
        });
    }

    /** Loop: the server refused the subscription for good; this is the last listener call. */
    void fail(TetherException error) {
        callbacks.execute(() -> {
            if (!closed) {
                closed = true;
                listener.onError(error);
            }
        });
    }

    /** Any thread: no listener call starts after this. */
    void close() {
        closed = true;
    }

    /** Runs {@code call} on the listener's serial executor unless the subscription is over by then. */
    private void run(Runnable call) {
        callbacks.execute(() -> {
            if (!closed) {
                call.run();
            }
        });
    }

    /**
     * Any thread, once the subscription is closed: after the listener calls already running or
     * queued, saves the position the listener reached. The client calls it when it closes, so that
     * what was handled since the last periodic save is not delivered again on the next start.
     */
    CompletableFuture<Void> saveLast(OffsetStore store) {
        CompletableFuture<Void> saved = new CompletableFuture<>();
        callbacks.execute(() -> {
            try {
                StreamPosition handled = position;
                if (handled != null) {
                    store.save(channel, handled);
                }
            } catch (RuntimeException e) {
                log.warn("offset store failed to save {} at {}", channel, position, e);
            } finally {
                saved.complete(null);
            }
        });
        return saved;
    }

    /** Loop: saves what the listener has handled, on the callback executor (the store may block). */
    void save(OffsetStore store, StreamPosition handled) {
        savedPosition = handled;
        callbacks.execute(() -> {
            try {
                store.save(channel, handled);
            } catch (RuntimeException e) {
                log.warn("offset store failed to save {} at {}", channel, handled, e);
            }
        });
    }

    @Override
    public String toString() {
        return "Subscription[" + channel + " at " + position + "]";
    }
}
