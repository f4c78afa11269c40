package dev.tether.client.e2e;

import dev.tether.client.ClientInfo;
import dev.tether.client.Gap;
import dev.tether.client.Publication;
import dev.tether.client.SubscribedEvent;
import dev.tether.client.SubscriptionListener;
import dev.tether.client.TetherException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A {@link SubscriptionListener} that records everything the application was told, in order,
 * and notices calls that overlap (which the client promises never happen).
 */
final class Recorder implements SubscriptionListener {
    final List<Publication> publications = new CopyOnWriteArrayList<>();
    final List<Gap> gaps = new CopyOnWriteArrayList<>();
    final List<SubscribedEvent> subscribed = new CopyOnWriteArrayList<>();
    final List<ClientInfo> joins = new CopyOnWriteArrayList<>();
    final List<ClientInfo> leaves = new CopyOnWriteArrayList<>();
    final List<TetherException> errors = new CopyOnWriteArrayList<>();
    /** Every call in order, for checking where gaps fall. */
    final List<String> timeline = new CopyOnWriteArrayList<>();
    private final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger overlaps = new AtomicInteger();

    private void enter() {
        if (inside.incrementAndGet() != 1) {
            overlaps.incrementAndGet();
        }
    }

    private void exit() {
        inside.decrementAndGet();
    }

    @Override
    public void onPublication(Publication p) {
        enter();
        publications.add(p);
        timeline.add("pub " + p.offset() + ":" + p.epoch());
        exit();
    }

    @Override
    public void onGap(String channel, long from, long to, String reason) {
        enter();
        gaps.add(new Gap(from, to, reason));
        timeline.add("gap " + from + ".." + to + " " + reason);
        exit();
    }

    @Override
    public void onSubscribed(SubscribedEvent event) {
        enter();
        subscribed.add(event);
        timeline.add("subscribed " + event.position());
        exit();
    }

    @Override
    public void onJoin(ClientInfo client) {
        joins.add(client);
    }

    @Override
    public void onLeave(ClientInfo client) {
        leaves.add(client);
    }

    @Override
    public void onError(TetherException error) {
        errors.add(error);
    }

    List<Long> offsets() {
        return publications.stream().map(Publication::offset).collect(Collectors.toList());
    }

    int count() {
        return publications.size();
    }
}
