package io.logferry.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource(textBlock = """
            500ms, 500
            1s, 1000
            2, 2000
            5m, 300000
            1h, 3600000
            ' 3s ', 3000
            0, 0
            8784h, 31622400000
            527040m, 31622400000
            31622400000ms, 31622400000
            """)
    void acceptedForms(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"3000000000000000h", "9223372036854775807s", "9223372036854775808ms", "1000000000000s"})
    void moreThanTwelveDigitsIsRefusedWithoutOverflow(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .isNotInstanceOf(ArithmeticException.class).hasMessageContaining("at most 12 digits");
    }

    @ParameterizedTest
    @ValueSource(strings = {"999999999999h", "8785h", "31622401s", "31622400001ms"})
    void longerThanAYearIsRefused(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theBoundIsNamed() {
        assertThatThrownBy(() -> Durations.parse("8785h")).hasMessageContaining("longer than 366 days");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "-1s", "1.5s", "1d", "s", "1 s", "1sec", "１s", "1e3"})
    void otherFormsAreRefused(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a duration");
    }

    @Test
    void aLongValueIsShownCut() {
        String text = "x".repeat(10_000);
        assertThatThrownBy(() -> Durations.parse(text)).satisfies(e -> assertThat(e.getMessage().length()).isLessThan(200));
    }
}
