package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SubscriptionsTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final InMemoryOffsetStore store = new InMemoryOffsetStore();
    private final Subscriptions subscriptions = new Subscriptions(loop, new FakeScheduler(), Runnable::run, store);

    @AfterEach
    void stop() {
        loop.shutdownGracefully();
    }

    /**
     * A subscribe that loses the race with close() (the client was not yet CLOSED when it checked)
     * ends like the others instead of waiting for a connection that never comes, and leaves the
     * channel free.
     */
    @Test
    void aSubscriptionAddedAfterTheClientClosedIsEndedAtOnce() {
        subscriptions.closeAll(store).join();
        ClientSubscription late = subscriptions.subscribe("c", (SubscriptionListener) p -> { }, SubscribeOptions.defaults());
        assertThat(late.isClosed()).isTrue();
        ClientSubscription again = subscriptions.subscribe("c", (SubscriptionListener) p -> { }, SubscribeOptions.defaults());
        assertThat(again.isClosed()).as("the channel was not left taken").isTrue();
    }
}
