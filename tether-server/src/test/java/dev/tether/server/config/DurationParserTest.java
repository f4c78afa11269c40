package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationParserTest {

    @ParameterizedTest
    @CsvSource({"250ms, 250", "25s, 25000", "5m, 300000", "1h, 3600000", "2d, 172800000", "0s, 0",
        "1m30s, 90000", "1h30m, 5400000", "2d12h, 216000000", "1s500ms, 1500", "' 10s ', 10000"})
    void acceptsEachUnitAndCombinationsFromTheLargestUnitDown(String text, long millis) {
        assertThat(DurationParser.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @Test
    void bareNumberIsRefusedAskingForAUnit() {
        assertThatThrownBy(() -> DurationParser.parse("25"))
                .hasMessage("\"25\" needs a unit, e.g. 25s or 200ms");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5x", "5 s", "30s1m", "1s1s", "-5s", "1.5s", "s", "ms5", "5sec", "1h-5m"})
    void unknownUnitsWrongOrderAndSignsAreRefused(String text) {
        assertThatThrownBy(() -> DurationParser.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a duration; use a number with ms, s, m, h or d,"
                        + " e.g. 25s, 200ms or 1m30s");
    }

    @Test
    void emptyTextIsRefused() {
        assertThatThrownBy(() -> DurationParser.parse("  "))
                .hasMessage("empty value; expected a duration such as 25s or 200ms");
    }

    @Test
    void durationsTooLargeForMillisecondsAreRefused() {
        assertThatThrownBy(() -> DurationParser.parse("99999999999999999999d"))
                .hasMessage("\"99999999999999999999d\" is too large");
        assertThatThrownBy(() -> DurationParser.parse("9999999999999d"))
                .hasMessage("\"9999999999999d\" is too large");
    }

    /** Deadlines are the clock plus a duration: ten years is the most any key takes. */
    @Test
    void durationsOverTenYearsAreRefused() {
        assertThat(DurationParser.parse("3650d")).isEqualTo(java.time.Duration.ofDays(3650));
        assertThatThrownBy(() -> DurationParser.parse("3651d")).hasMessage("\"3651d\" is too large; at most 3650d");
        assertThatThrownBy(() -> DurationParser.parse("999999d")).hasMessage("\"999999d\" is too large; at most 3650d");
    }

    @Test
    void formatPrintsTheShortestTextThatParsesBack() {
        assertThat(DurationParser.format(Duration.ofSeconds(120))).isEqualTo("2m");
        assertThat(DurationParser.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(DurationParser.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(DurationParser.format(Duration.ofHours(25))).isEqualTo("1d1h");
        assertThat(DurationParser.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(DurationParser.format(Duration.ofSeconds(-3))).isEqualTo("-3s");
        for (String text : new String[] {"250ms", "25s", "5m", "1h", "2d", "1d2h3m4s5ms"}) {
            assertThat(DurationParser.format(DurationParser.parse(text))).isEqualTo(text);
        }
    }
}
