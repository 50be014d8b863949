package io.logferry.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class PrintableTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            plain text                         | plain text
            line one\\nline two                 | line one\\nline two
            """)
    void textWithoutControlsIsReturnedAsItIs(String in, String out) {
        assertThat(Printable.escape(in)).isEqualTo(out);
    }

    @Test
    void eachKindOfControlHasItsVisibleForm() {
        assertThat(Printable.escape("a\nb\rc\td\u001be")).isEqualTo("a\\nb\\rc\\td\\ee");
        assertThat(Printable.escape("\u0000\u0007\u007f\u0080\u009b\u009f")).isEqualTo("\\x00\\x07\\x7f\\x80\\x9b\\x9f");
        assertThat(Printable.escape("x\u2028y\u2029z")).isEqualTo("x\\u2028y\\u2029z");
        assertThat(Printable.escape("\u202eevil\u2066")).isEqualTo("\\u202eevil\\u2066");
        assertThat(Printable.escape("lone \ud800 high, lone \udc00 low")).isEqualTo("lone \\ud800 high, lone \\udc00 low");
    }

    @Test
    void printableUnicodeAndPairsAreKept() {
        String s = "café 日本 \ud83d\ude00 ä\u00a0b";
        assertThat(Printable.escape(s)).isSameAs(s);
    }

    @Test
    void quoteCutsLongValuesAndSaysHowLongTheyWere() {
        String big = "a".repeat(40_960);
        String q = Printable.quote(big);
        assertThat(q).isEqualTo("'" + "a".repeat(200) + "'…(40960 chars)");
        assertThat(Printable.quote("x\ny")).isEqualTo("'x\\ny'");
        assertThat(Printable.quote("a".repeat(200))).isEqualTo("'" + "a".repeat(200) + "'");
        // a surrogate pair at the cut is not split
        String pair = "a".repeat(199) + "\ud83d\ude00" + "b";
        assertThat(Printable.quote(pair)).isEqualTo("'" + "a".repeat(199) + "'…(202 chars)");
    }

    /** Random strings: the result never holds an unsafe character and escaping twice changes nothing. */
    @Test
    void noControlSurvivesAndEscapingIsIdempotent() {
        long seed = 20261201L;
        SplittableRandom r = new SplittableRandom(seed);
        int cases = 20_000;
        for (int n = 0; n < cases; n++) {
            StringBuilder b = new StringBuilder();
            int len = r.nextInt(40);
            for (int i = 0; i < len; i++) {
                b.append((char) (r.nextBoolean() ? r.nextInt(0x100) : r.nextInt(0x10000)));
            }
            String s = b.toString();
            String e = Printable.escape(s);
            for (int i = 0; i < e.length(); i++) {
                char c = e.charAt(i);
                boolean pair = Character.isHighSurrogate(c) && i + 1 < e.length() && Character.isLowSurrogate(e.charAt(i + 1));
                assertThat(Printable.unsafe(c) || (Character.isSurrogate(c) && !pair && !(i > 0 && Character.isHighSurrogate(e.charAt(i - 1)))))
                        .as("seed %d case %d: %s", seed, n, e).isFalse();
                if (pair) {
                    i++;
                }
            }
            assertThat(Printable.escape(e)).as("seed %d case %d", seed, n).isEqualTo(e);
        }
    }
}
