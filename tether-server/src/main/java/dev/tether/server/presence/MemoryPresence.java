package dev.tether.server.presence;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Presence in this process's memory. Limits: a single node. */
public final class MemoryPresence implements PresenceRegistry {
    /** Each channel's map is guarded by itself; empty maps are removed under the same lock. */
    private final ConcurrentHashMap<String, Map<String, ClientInfo>> channels = new ConcurrentHashMap<>();
    private volatile PresenceListener listener = new PresenceListener() {
        @Override
        public void joined(String channel, ClientInfo client) {
        }

        @Override
        public void left(String channel, ClientInfo client) {
        }
    };

    @Override
    public boolean join(String channel, ClientInfo client) {
        boolean[] added = {false};
        channels.compute(channel, (name, members) -> {
            Map<String, ClientInfo> m = members != null ? members : new LinkedHashMap<>();
            // Present already (a resume): no second join, but what presence lists is the latest info.
            added[0] = m.put(client.client(), client) == null;
            return m;
        });
        if (added[0]) {
            listener.joined(channel, client);
        }
        return added[0];
    }

    @Override
    public boolean leave(String channel, String clientId) {
        ClientInfo[] removed = {null};
        channels.computeIfPresent(channel, (name, members) -> {
            removed[0] = members.remove(clientId);
            return members.isEmpty() ? null : members;
        });
        if (removed[0] != null) {
            listener.left(channel, removed[0]);
        }
        return removed[0] != null;
    }

    @Override
    public List<ClientInfo> list(String channel) {
        List<ClientInfo> out = new ArrayList<>();
        channels.computeIfPresent(channel, (name, members) -> {
            out.addAll(members.values());
            return members;
        });
        return out;
    }

    @Override
    public void setListener(PresenceListener listener) {
        this.listener = listener;
    }
}
