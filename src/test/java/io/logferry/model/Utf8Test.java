package io.logferry.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Utf8Test {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "abc      | 3",
            "é        | 2",
            "€        | 3",
            "😀       | 4",
            "a€😀b    | 9",
    })
    void lengthIsTheEncodedLength(String s, int bytes) {
        assertThat(Utf8.length(s.strip())).isEqualTo(bytes);
    }

    @Test
    void aLoneSurrogateCountsAsItsReplacement() {
        assertThat(Utf8.length("a\uD83D")).isEqualTo(4);
        assertThat(Utf8.length("\uDE00b")).isEqualTo(4);
        assertThat("a\uD83D".getBytes(StandardCharsets.UTF_8)).hasSize(2);  // Java writes '?': the documents write U+FFFD
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "abcdef   | 4 | abcd",
            "a€b      | 3 | a",
            "a€b      | 4 | a€",
            "a😀b     | 4 | a",
            "a😀b     | 5 | a😀",
            "abc      | 0 | ''",
            "abc      | 9 | abc",
    })
    void truncateNeverSplitsACharacter(String s, int max, String expected) {
        assertThat(Utf8.truncate(s.strip(), max)).isEqualTo(expected.strip());
    }

    @Test
    void truncateKeepsTheLongestPrefixThatFits() {
        Random r = new Random(13);
        String alphabet = "aé€😀\uD83D";
        for (int round = 0; round < 2000; round++) {
            StringBuilder b = new StringBuilder();
            for (int i = r.nextInt(20); i > 0; i--) {
                b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            String s = b.toString();
            int max = r.nextInt(40);
            String cut = Utf8.truncate(s, max);
            assertThat(s).startsWith(cut);
            assertThat(Utf8.length(cut)).isLessThanOrEqualTo(max);
            if (cut.length() < s.length()) {
                int next = Character.isHighSurrogate(s.charAt(cut.length())) && cut.length() + 1 < s.length()
                        && Character.isLowSurrogate(s.charAt(cut.length() + 1)) ? 2 : 1;
                assertThat(Utf8.length(s.substring(0, cut.length() + next))).as("%s at %d", s, max).isGreaterThan(max);
            }
        }
    }
}
