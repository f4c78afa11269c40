package dev.tether.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileOffsetStoreTest {
    @TempDir
    Path dir;

    @Test
    void aNewStoreOnTheSameFileSeesWhatTheOldOneSaved() {
        Path file = dir.resolve("sub/positions.json");
        FileOffsetStore first = new FileOffsetStore(file);
        assertThat(first.load("chat")).isNull();
        assertThat(first.loadSession()).isNull();
        first.save("chat", new StreamPosition(41, "e-7c1"));
        first.save("news", new StreamPosition(3, "e-2"));
        first.save("chat", new StreamPosition(42, "e-7c1"));
        first.saveSession("s-abc");

        FileOffsetStore second = new FileOffsetStore(file);
        assertThat(second.load("chat")).isEqualTo(new StreamPosition(42, "e-7c1"));
        assertThat(second.load("news")).isEqualTo(new StreamPosition(3, "e-2"));
        assertThat(second.loadSession()).isEqualTo("s-abc");
    }

    @Test
    void leavesNoTemporaryFilesBehind() throws IOException {
        FileOffsetStore store = new FileOffsetStore(dir.resolve("positions.json"));
        for (int i = 1; i <= 20; i++) {
            store.save("chat", new StreamPosition(i, "e-1"));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("positions.json");
        }
    }

    @Test
    void inMemoryStoreRemembersWhileItLives() {
        InMemoryOffsetStore store = new InMemoryOffsetStore();
        store.save("chat", new StreamPosition(1, "e"));
        store.saveSession("s");
        assertThat(store.load("chat")).isEqualTo(new StreamPosition(1, "e"));
        assertThat(store.loadSession()).isEqualTo("s");
    }
}
