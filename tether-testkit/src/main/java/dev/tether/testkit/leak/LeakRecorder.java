package dev.tether.testkit.leak;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects Netty's leak reports (logged at ERROR by ResourceLeakDetector) so tests can fail on them. */
public final class LeakRecorder extends AppenderBase<ILoggingEvent> {
    public static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getFormattedMessage().contains("LEAK")) {
            LEAKS.add(event.getFormattedMessage());
        }
    }
}
