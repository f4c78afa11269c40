package dev.tether.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WebOriginTest {

    @ParameterizedTest
    @CsvSource({
        "https://app.example.com, https://app.example.com:443",
        "HTTPS://App.Example.COM:443, https://app.example.com:443",
        "http://tether_server:8080, http://tether_server:8080",
        "http://127.0.0.1, http://127.0.0.1:80",
        "http://[::1]:8080, http://[::1]:8080",
        "https://a.example/, https://a.example:443",
        "app://desktop, app://desktop:-1",
    })
    void originsParseToOneCanonicalForm(String text, String canonical) {
        assertThat(WebOrigin.parse(text)).isNotNull().extracting(WebOrigin::canonical).isEqualTo(canonical);
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "", "app.example.com", "https://", "https://user@app.example.com",
        "https://app.example.com:99999", "https://app.example.com:0", "https://app.example.com:x", "https://a.example/path",
        "https://a.example?q", "https://a.example#f", "://a.example", "1http://a.example", "https://a b"})
    void nonOriginsAreRefused(String text) {
        assertThat(WebOrigin.parse(text)).isNull();
    }

    @ParameterizedTest
    @CsvSource({
        "http://tether_server:8080, tether_server:8080, true",
        "http://localhost, localhost, true",
        "http://localhost, localhost:80, true",
        "https://localhost, localhost:80, false",
        "http://[::1]:8080, [::1]:8080, true",
        "http://a.example:8080, a.example, false",
    })
    void aPageIsServedByTheHostItCameFrom(String origin, String host, boolean served) {
        assertThat(WebOrigin.parse(origin).isServedBy(host)).isEqualTo(served);
    }
}
