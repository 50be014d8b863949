package io.logferry.selection;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GlobsTest {

    @ParameterizedTest(name = "{0} ~ {1}: {2}")
    @CsvSource(textBlock = """
            *, anything, true
            *, '', true
            '', '', true
            '', a, false
            nginx, nginx, true
            nginx, nginx2, false
            nginx*, nginx_access, true
            *_access, nginx_access, true
            *_access, nginx_error, false
            app?, app1, true
            app?, app, false
            app?, app12, false
            a*b*c, aXXbYYc, true
            a*b*c, aXXbYY, false
            a*b*c, abcbc, true
            **x, x, true
            team.*, team.payments, true
            Team-*, team-x, true
            """)
    void matches(String glob, String text, boolean expected) {
        assertThat(Globs.matches(glob, text)).isEqualTo(expected);
    }

    @Test
    void aLongTextAgainstManyStarsStaysCheap() {
        String glob = "*a".repeat(50) + "b";
        String text = "a".repeat(100);
        assertThat(Globs.matches(glob, text)).isFalse();
        assertThat(Globs.anyMatches(List.of("x", "y*"), "yes")).isTrue();
        assertThat(Globs.anyMatches(List.of(), "yes")).isFalse();
    }
}
