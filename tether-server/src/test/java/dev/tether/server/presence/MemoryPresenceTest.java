package dev.tether.server.presence;

class MemoryPresenceTest extends PresenceContract {
    @Override
    protected PresenceRegistry newRegistry() {
        return new MemoryPresence();
    }
}
