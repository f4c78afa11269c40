package dev.tether.client;

import io.netty.channel.EventLoop;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task later. Production code uses the client's event loop; tests pass a fake one where
 * time is the subject.
 */
interface Scheduler {

    /** Runs {@code task} after {@code delayMillis}; returns a handle that cancels it. */
    Cancellable schedule(Runnable task, long delayMillis);

    /** A scheduled task that can be called off. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }

    static Scheduler of(EventLoop loop) {
        return (task, delayMillis) -> {
            ScheduledFuture<?> f = loop.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        };
    }
}
