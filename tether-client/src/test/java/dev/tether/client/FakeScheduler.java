package dev.tether.client;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A {@link Scheduler} on a fake clock: tasks run only when a test advances time. Thread-safe. */
final class FakeScheduler implements Scheduler {
    private final List<Task> tasks = new ArrayList<>();
    private long now;

    private static final class Task {
        final long due;
        final Runnable run;
        boolean cancelled;

        Task(long due, Runnable run) {
            this.due = due;
            this.run = run;
        }
    }

    @Override
    public synchronized Cancellable schedule(Runnable task, long delayMillis) {
        Task t = new Task(now + delayMillis, task);
        tasks.add(t);
        return () -> {
            synchronized (this) {
                t.cancelled = true;
            }
        };
    }

    /** Moves the clock forward, running every task that falls due, in due order. */
    void advance(long millis) {
        long until;
        synchronized (this) {
            until = now + millis;
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.stream().filter(t -> !t.cancelled && t.due <= until).min(Comparator.comparingLong(t -> t.due)).orElse(null);
                if (next == null) {
                    now = until;
                    return;
                }
                tasks.remove(next);
                now = next.due;
            }
            next.run.run();
        }
    }

    /** Tasks scheduled and neither run nor cancelled. */
    synchronized int pending() {
        return (int) tasks.stream().filter(t -> !t.cancelled).count();
    }

    /** Delay until the next pending task from now, or -1. */
    synchronized long nextDelay() {
        return tasks.stream().filter(t -> !t.cancelled).mapToLong(t -> t.due - now).min().orElse(-1);
    }
}
