package dev.tether.server.presence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The contract every {@link PresenceRegistry} backend must pass. */
public abstract class PresenceContract {
    protected PresenceRegistry presence;
    protected final List<String> events = new CopyOnWriteArrayList<>();

    protected abstract PresenceRegistry newRegistry();

    @BeforeEach
    void open() {
        presence = newRegistry();
        presence.setListener(new PresenceListener() {
            @Override
            public void joined(String channel, ClientInfo client) {
                events.add("join " + channel + " " + client.client());
            }

            @Override
            public void left(String channel, ClientInfo client) {
                events.add("leave " + channel + " " + client.client());
            }
        });
    }

    private static ClientInfo client(String id) {
        return new ClientInfo(id, "user-" + id, "{\"name\":\"" + id + "\"}");
    }

    @Test
    void joinAddsTheClientAndTellsTheListenerOnce() {
        assertThat(presence.join("room", client("c-1"))).isTrue();
        assertThat(presence.join("room", client("c-1"))).isFalse();
        assertThat(presence.list("room")).containsExactly(client("c-1"));
        assertThat(events).containsExactly("join room c-1");
    }

    /** A resume with new info: no second join event, and the list shows what the client says now. */
    @Test
    void aSecondJoinUpdatesTheListedInfoWithoutAnotherEvent() {
        presence.join("room", client("c-1"));
        ClientInfo renamed = new ClientInfo("c-1", "user-c-1", "{\"name\":\"Ada\"}");
        assertThat(presence.join("room", renamed)).isFalse();
        assertThat(presence.list("room")).containsExactly(renamed);
        assertThat(events).containsExactly("join room c-1");
    }

    @Test
    void leaveRemovesTheClientAndIsSilentWhenAbsent() {
        presence.join("room", client("c-1"));
        presence.join("room", client("c-2"));
        assertThat(presence.leave("room", "c-1")).isTrue();
        assertThat(presence.leave("room", "c-1")).isFalse();
        assertThat(presence.leave("elsewhere", "c-2")).isFalse();
        assertThat(presence.list("room")).extracting(ClientInfo::client).containsExactly("c-2");
        assertThat(events).containsExactly("join room c-1", "join room c-2", "leave room c-1");
    }

    @Test
    void channelsAreIndependentAndEmptyChannelsListNobody() {
        presence.join("a", client("c-1"));
        assertThat(presence.list("b")).isEmpty();
        presence.leave("a", "c-1");
        assertThat(presence.list("a")).isEmpty();
    }
}
