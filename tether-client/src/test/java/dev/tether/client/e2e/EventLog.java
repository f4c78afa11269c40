package dev.tether.client.e2e;

import dev.tether.client.ConnectedEvent;
import dev.tether.client.ConnectionListener;
import dev.tether.client.TetherClient;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link ConnectionListener} that records what it was told. */
final class EventLog implements ConnectionListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<ConnectedEvent> connected = new CopyOnWriteArrayList<>();
    final List<TetherClient.State> states = new CopyOnWriteArrayList<>();
    final CompletableFuture<Integer> closedCode = new CompletableFuture<>();
    /** Calls that arrived after onClosed: the client promises none. */
    final AtomicInteger afterClosed = new AtomicInteger();

    private void record(String e) {
        if (closedCode.isDone()) {
            afterClosed.incrementAndGet();
        }
        events.add(e);
    }

    @Override
    public void onStateChanged(TetherClient.State from, TetherClient.State to) {
        record(from + "->" + to);
        states.add(to);
    }

    @Override
    public void onConnected(ConnectedEvent event) {
        record("connected resumed=" + event.resumed());
        connected.add(event);
    }

    @Override
    public void onDisconnected(int code, String reason, boolean willReconnect) {
        record("disconnected " + code + " reconnect=" + willReconnect);
    }

    @Override
    public void onClosed(int code, String reason) {
        record("closed " + code);
        closedCode.complete(code);
    }

    long resumes() {
        return connected.stream().filter(ConnectedEvent::resumed).count();
    }
}
