package dev.tether.server.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.AppendResult;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.Publication;
import dev.tether.server.protocol.Gap;
import dev.tether.server.protocol.StreamPosition;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A history page while the oldest publications leave history under the read. A real store cannot
 * be stopped between two calls of one read, so this stream does it on cue: its history loses its
 * oldest right after the page has looked at {@code first()} once.
 */
class HistoryPageTest {

    /** Offsets 1..top; {@code first()} is {@code firstBefore} on its first call, then {@code firstAfter}. */
    private static final class TrimmedWhileRead implements ChannelStream {
        private final long top;
        private final long firstBefore;
        private final long firstAfter;
        private final long missing;
        private int firstCalls;

        /** @param missing an offset that reads as gone (0 = none), as if trimmed in the middle of the read */
        TrimmedWhileRead(long top, long firstBefore, long firstAfter, long missing) {
            this.top = top;
            this.firstBefore = firstBefore;
            this.firstAfter = firstAfter;
            this.missing = missing;
        }

        @Override
        public long first() {
            return firstCalls++ == 0 ? firstBefore : firstAfter;
        }

        @Override
        public Publication get(long offset) {
            if (offset < firstAfter || offset > top || offset == missing) {
                return null;
            }
            return new Publication("c", offset, 1_000 + offset, "1".getBytes(StandardCharsets.UTF_8), null, null);
        }

        @Override
        public long top() {
            return top;
        }

        @Override
        public String epoch() {
            return "e-1";
        }

        @Override
        public String channel() {
            return "c";
        }

        /** A history page only reads; nothing in these tests appends. */
        @Override
        public CompletableFuture<AppendResult> append(AppendRequest request) {
            return CompletableFuture.failedFuture(new IllegalStateException("this stream only serves reads"));
        }

        @Override
        public void close() {
        }
    }

    private static List<Long> offsets(HistoryPage page) {
        return page.publications().stream().map(Publication::offset).toList();
    }

    @Test
    void nothingLeavingMeansNoGap() {
        HistoryPage page = HistoryPage.read(new TrimmedWhileRead(5, 1, 1, 0), new StreamPosition(0, "e-1"), 100);
        assertThat(offsets(page)).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(page.gap()).isNull();
    }

    @Test
    void publicationsThatLeaveBetweenTheCheckAndTheReadAreReportedAsAGap() {
        HistoryPage page = HistoryPage.read(new TrimmedWhileRead(8, 1, 5, 0), new StreamPosition(0, "e-1"), 100);
        assertThat(offsets(page)).containsExactly(5L, 6L, 7L, 8L);
        assertThat(page.gap()).isEqualTo(Gap.retention(1, 4));
    }

    @Test
    void whenAllLeftTheGapCoversEverythingAfterSince() {
        HistoryPage page = HistoryPage.read(new TrimmedWhileRead(5, 3, 6, 0), new StreamPosition(3, "e-1"), 100);
        assertThat(page.publications()).isEmpty();
        assertThat(page.gap()).isEqualTo(Gap.retention(4, 5));
    }

    @Test
    void aGapAlreadySeenGrowsToWhatLeftSince() {
        // since 1: 2 and 3 had already left (first 4), and by the read 4 and 5 have too
        HistoryPage page = HistoryPage.read(new TrimmedWhileRead(8, 4, 6, 0), new StreamPosition(1, "e-1"), 100);
        assertThat(offsets(page)).containsExactly(6L, 7L, 8L);
        assertThat(page.gap()).isEqualTo(Gap.retention(2, 5));
    }

    @Test
    void aPageEndsAtAHoleThatOpensInTheMiddleOfTheRead() {
        HistoryPage page = HistoryPage.read(new TrimmedWhileRead(8, 1, 1, 4), new StreamPosition(0, "e-1"), 100);
        assertThat(offsets(page)).as("the client asks again from 3 and is told").containsExactly(1L, 2L, 3L);
        assertThat(page.gap()).isNull();
    }

    @Test
    void withoutSinceThereIsNoGapToReport() {
        HistoryPage page = HistoryPage.read(new TrimmedWhileRead(8, 1, 5, 0), null, 100);
        assertThat(offsets(page)).containsExactly(5L, 6L, 7L, 8L);
        assertThat(page.gap()).isNull();
    }
}
