package dev.tether.server.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a graceful shutdown. Handling them ourselves replaces the JVM's
 * default, which would exit at once with status 143 (or 130) without draining connections; the
 * process then exits 0 once the drain is done (see {@link ServeCommand}). A second signal means the
 * operator has stopped waiting: the process halts at once with the conventional 128 + signal number.
 */
public final class ShutdownSignals {
    private static final Logger log = LoggerFactory.getLogger(ShutdownSignals.class);

    private final Runnable onShutdown;
    /** Set by the first signal; signal handlers run on threads of their own. */
    private final AtomicBoolean received = new AtomicBoolean();

    private ShutdownSignals(Runnable onShutdown) {
        this.onShutdown = onShutdown;
    }

    /** Runs {@code onShutdown} on the first SIGTERM or SIGINT; it must not block. */
    public static void install(Runnable onShutdown) {
        ShutdownSignals signals = new ShutdownSignals(onShutdown);
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signals::handle);
            } catch (IllegalArgumentException e) {
                // The JVM keeps some signals to itself (for instance all of them under -Xrs).
                log.warn("Cannot handle SIG{}, it will stop the server without draining: {}", name, e.getMessage());
            }
        }
    }

    private void handle(Signal signal) {
        if (received.compareAndSet(false, true)) {
            log.info("SIG{} received, draining connections; send it again to stop at once", signal.getName());
            onShutdown.run();
        } else {
            log.warn("SIG{} received again, stopping without finishing the drain", signal.getName());
            Runtime.getRuntime().halt(128 + signal.getNumber());
        }
    }
}
