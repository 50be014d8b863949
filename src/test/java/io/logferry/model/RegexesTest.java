package io.logferry.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegexesTest {

    /** 40 KB of nesting: refused by the length limit, and by the depth bound when the limit is lifted. */
    @Test
    void deeplyNestedPatternsAreRefusedWithoutOverflowingTheStack() {
        String nested = "(".repeat(20_000) + "a" + ")".repeat(20_000);
        assertThatThrownBy(() -> Regexes.compile(nested, 1024)).isInstanceOf(Regexes.Invalid.class)
                .hasMessageContaining("40001 characters long").hasMessageContaining("limits.regex_max_length (1024)");
        assertThatThrownBy(() -> Regexes.compile(nested, Integer.MAX_VALUE)).isInstanceOf(Regexes.Invalid.class)
                .hasMessageContaining("nests groups deeper than " + Regexes.MAX_DEPTH);
        // just within the depth bound: compiles and matches
        String ok = "(".repeat(Regexes.MAX_DEPTH) + "a" + ")".repeat(Regexes.MAX_DEPTH);
        assertThat(Regexes.compile(ok, Integer.MAX_VALUE).find("xa")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"((a{1000}){1000}){1000}", "(a{1000}){1000}", "(((x{100}){100}){100})", "[ab]{1000}{1000}"})
    void countedRepetitionsThatExpandBeyondTheBoundAreRefused(String regex) {
        assertThatThrownBy(() -> Regexes.compile(regex, 1024)).isInstanceOf(Regexes.Invalid.class)
                .hasMessageMatching("(expands to more than " + Regexes.MAX_EXPANDED + " steps.*|does not compile.*)");
    }

    @Test
    void countedRepetitionsWithinTheBoundCompile() {
        assertThat(Regexes.compile("^\\d{4}-\\d{2}-\\d{2}").find("2026-12-01 ok")).isTrue();
        assertThat(Regexes.compile("(ab){50}").find("ab".repeat(50))).isTrue();
        assertThat(Regexes.compile("x{2,5}").find("axxb")).isTrue();
        assertThat(Regexes.compile("a{,5}").find("a{,5}")).as("not a count: literal braces").isTrue();
    }

    /**
     * The pattern that spun a tailer on java.util.regex, on lines up to 3,000 characters without
     * the '='. A bounded loop that must complete: with a backtracking engine the first 3,000-char
     * line alone would not finish (6 nested stars: about n^6 steps).
     */
    @Test
    void catastrophicBacktrackingPatternsRunInLinearTime() {
        LinePattern p = Regexes.compile(".*.*.*.*.*.*=");
        int lines = 0;
        for (int len = 100; len <= 3_000; len += 100) {
            String line = "x".repeat(len);
            assertThat(p.find(line)).isFalse();
            assertThat(p.find(line + "=")).isTrue();
            lines++;
        }
        assertThat(lines).isEqualTo(30);
        LinePattern q = Regexes.compile("(a+)+$");
        assertThat(q.find("a".repeat(3_000) + "!")).isFalse();
        LinePattern r = Regexes.compile("(x+x+)+y");
        assertThat(r.find("x".repeat(3_000))).isFalse();
    }

    @ParameterizedTest(name = "{0} finds {1}: {2}")
    @CsvSource(delimiter = ';', textBlock = """
            ^[[:space:]]+(at|\\.{3})[[:space:]]+\\b|^Caused by: ;'    at com.example.Foo.bar(Foo.java:1)'; true
            ^[[:space:]]+(at|\\.{3})[[:space:]]+\\b|^Caused by: ;Caused by: java.io.IOException        ; true
            ^[[:space:]]+(at|\\.{3})[[:space:]]+\\b|^Caused by: ;2026-12-01 INFO started               ; false
            ^[[:digit:]]{4}-                                    ;2026-12-01 INFO                       ; true
            [[:upper:]][[:lower:]]+Error                        ;raised ValueError here                ; true
            \\p{Lu}\\p{Ll}                                       ;xAbx                                  ; true
            (?i)error                                           ;ERROR: boom                           ; true
            """)
    void re2SyntaxAndPosixClassesWorkAsInFilebeat(String regex, String line, boolean found) {
        assertThat(Regexes.compile(regex).find(line)).isEqualTo(found);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            (?<=user=)\\w+     | lookbehind
            (?<!x)y           | lookbehind
            foo(?=bar)        | lookahead
            foo(?!bar)        | lookahead
            (a)\\1            | backreference
            a++b              | possessive quantifier
            (?>ab)c           | atomic group
            end\\Z            | \\Z or \\G
            """)
    void javaOnlySyntaxIsRefusedWithAMessageThatSaysSo(String regex, String named) {
        assertThatThrownBy(() -> Regexes.compile(regex)).isInstanceOf(Regexes.Invalid.class)
                .hasMessageStartingWith("does not compile (")
                .hasMessageContaining(named)
                .hasMessageContaining("is Java regex syntax, which RE2");
    }

    @Test
    void aSyntaxErrorSaysWhereAndNeverCarriesAControlCharacter() {
        assertThatThrownBy(() -> Regexes.compile("ab(c")).isInstanceOf(Regexes.Invalid.class)
                .hasMessageStartingWith("does not compile (missing closing )");
        assertThatThrownBy(() -> Regexes.compile("[\u001b")).isInstanceOf(Regexes.Invalid.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u001b"));
    }

    @Test
    void lengthIsCheckedAgainstTheLimitGiven() {
        assertThat(Regexes.compile("a".repeat(1024), 1024).find("a".repeat(1024))).isTrue();
        assertThatThrownBy(() -> Regexes.compile("a".repeat(1025), 1024)).hasMessageContaining("1025 characters long");
        assertThatThrownBy(() -> Regexes.compile("abc", 2)).hasMessageContaining("limits.regex_max_length (2)");
    }

    @Test
    void linePatternsAreEqualBySourceAndEngine() {
        assertThat(Regexes.compile("a+")).isEqualTo(Regexes.compile("a+")).hasSameHashCodeAs(Regexes.compile("a+"));
        assertThat(Regexes.compile("a+")).isNotEqualTo(LinePattern.builtin("a+")).isNotEqualTo(Regexes.compile("b+"));
        assertThat(Regexes.compile("a+").source()).isEqualTo("a+");
        assertThat(Regexes.compile("b").find("abc")).as("find: anywhere in the line").isTrue();
        assertThat(LinePattern.builtin("^\\s+at\\s").find("\tat x.Y.z(Y.java:1)")).as("a built-in pattern").isTrue();
    }
}
