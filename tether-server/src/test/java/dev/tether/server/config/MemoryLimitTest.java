package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MemoryLimitTest {

    @ParameterizedTest
    @CsvSource({"25%, 0, 25", "' 1 % ', 0, 1", "100%, 0, 100", "512MiB, 536870912, 0", "64KiB, 65536, 0",
        "8GiB, 8589934592, 0", "65536, 65536, 0"})
    void readsBytesOrAShareOfTheHeap(String text, long bytes, int percent) {
        assertThat(MemoryLimit.parse(text)).isEqualTo(new MemoryLimit(bytes, percent));
    }

    @Test
    void aShareResolvesAgainstTheMaximumHeapAndBytesAreBytes() {
        assertThat(MemoryLimit.parse("25%").resolve(4L << 30)).isEqualTo((4L << 30) / 100 * 25);
        assertThat(MemoryLimit.parse("512MiB").resolve(4L << 30)).isEqualTo(512L << 20);
        assertThat(MemoryLimit.parse("1%").resolve(1 << 20)).as("never below the minimum").isEqualTo(MemoryLimit.MIN_BYTES);
    }

    @Test
    void printsAsWrittenSoThatItReadsBack() {
        for (String text : List.of("25%", "512MiB", "8GiB", "65537")) {
            assertThat(MemoryLimit.parse(text).toString()).isEqualTo(text);
            assertThat(MemoryLimit.parse(MemoryLimit.parse(text).toString())).isEqualTo(MemoryLimit.parse(text));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0%|\"0%\" is not a share of the heap; use a whole percentage from 1% to 100%, e.g. 25%",
        "101%|\"101%\" is not a share of the heap; use a whole percentage from 1% to 100%, e.g. 25%",
        "12.5%|\"12.5%\" is not a share of the heap; use a whole percentage from 1% to 100%, e.g. 25%",
        "%|\"%\" is not a share of the heap; use a whole percentage from 1% to 100%, e.g. 25%",
        "512MB|\"512MB\" is not a size or a share of the heap; use bytes, KiB, MiB or GiB (e.g. 512MiB) or a percentage"
            + " of the heap (e.g. 25%)",
        "lots|\"lots\" is not a size or a share of the heap; use bytes, KiB, MiB or GiB (e.g. 512MiB) or a percentage"
            + " of the heap (e.g. 25%)",
        "1KiB|\"1KiB\" is too small; the minimum is 64KiB",
        "0|\"0\" is too small; the minimum is 64KiB",
    })
    void anythingElseIsRefusedWithAPreciseMessage(String text, String message) {
        assertThatThrownBy(() -> MemoryLimit.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void emptyTextIsRefused() {
        assertThatThrownBy(() -> MemoryLimit.parse(" "))
                .hasMessage("empty value; expected a size such as 512MiB or a share of the heap such as 25%");
    }

    @Test
    void theConfigKeyReadsFromFlagsEnvironmentAndNamesItselfWhenWrong() {
        assertThat(TetherConfig.defaults().historyMemory()).isEqualTo(new MemoryLimit(0, 25));
        assertThat(ConfigLoader.load(Map.of(), null, Map.of("TETHER_HISTORY_MEMORY", "10%")).historyMemory())
                .isEqualTo(new MemoryLimit(0, 10));
        assertThat(ConfigLoader.load(Map.of(ConfigKey.HISTORY_MEMORY, List.of("2GiB")), null, Map.of()).historyMemory())
                .isEqualTo(new MemoryLimit(2L << 30, 0));
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(ConfigKey.HISTORY_MEMORY, List.of("200%")), null, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("history-memory (flag --history-memory): \"200%\" is not a share of the heap; use a whole"
                        + " percentage from 1% to 100%, e.g. 25%");
    }
}
