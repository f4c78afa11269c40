package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizeParserTest {

    @ParameterizedTest
    @CsvSource({"65536, 65536", "0, 0", "64KiB, 65536", "1MiB, 1048576", "1GiB, 1073741824", "' 2 KiB ', 2048",
        "2147483647, 2147483647"})
    void acceptsBytesAndBinaryUnits(String text, int bytes) {
        assertThat(SizeParser.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"64KB", "64k", "1MB", "64kib", "-1", "1.5MiB", "KiB", "lots"})
    void decimalUnitsAndAnythingElseAreRefused(String text) {
        assertThatThrownBy(() -> SizeParser.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + text + "\" is not a size; use a number of bytes or KiB, MiB, GiB,"
                        + " e.g. 65536 or 64KiB");
    }

    @Test
    void sizesBeyondAnIntAreRefused() {
        assertThatThrownBy(() -> SizeParser.parse("2GiB"))
                .hasMessage("\"2GiB\" is too large; the maximum is 2147483647 bytes");
        assertThatThrownBy(() -> SizeParser.parse("99999999999999999999"))
                .hasMessage("\"99999999999999999999\" is too large; the maximum is 2147483647 bytes");
    }

    @Test
    void emptyTextIsRefused() {
        assertThatThrownBy(() -> SizeParser.parse(""))
                .hasMessage("empty value; expected a size such as 65536 or 64KiB");
    }

    @Test
    void formatUsesTheLargestExactUnit() {
        assertThat(SizeParser.format(65536)).isEqualTo("64KiB");
        assertThat(SizeParser.format(1048576)).isEqualTo("1MiB");
        assertThat(SizeParser.format(1000)).isEqualTo("1000");
        assertThat(SizeParser.format(0)).isEqualTo("0");
    }
}
