package dev.tether.server.session;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

class MemorySessionStoreTest extends SessionStoreContract {
    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);

    @Override
    protected SessionStore newStore() {
        return new MemorySessionStore(new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(now.get());
            }
        });
    }

    @Override
    protected void advanceClock(long millis) {
        now.addAndGet(millis);
    }
}
