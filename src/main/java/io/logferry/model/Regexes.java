package io.logferry.model;

/**
 * Compiles the regular expressions users write in labels and config, on RE2/J: the syntax of
 * Filebeat's hints (RE2, Go), POSIX classes such as {@code [[:space:]]} included, and matching in
 * time linear in the line's length, so that no pattern can make a line cost more than a few
 * passes over it. Patterns are untrusted input: before compiling, the text's length, its
 * nesting depth and the size its counted repetitions expand to are bounded, so that compiling
 * cannot exhaust the stack or the heap either ({@code ((a{1000}){1000}){1000}} is 27 characters).
 */
public final class Regexes {
    /** The default of {@code limits.regex_max_length}. */
    public static final int DEFAULT_MAX_LENGTH = 1024;
    /** Groups nested deeper than this are refused (the parser and compiler recurse on them). */
    static final int MAX_DEPTH = 100;
    /** An upper bound of the compiled program's size, in atoms after repetitions are expanded. */
    static final long MAX_EXPANDED = 100_000;

    private Regexes() { }

    /** Why a pattern was refused: the text for a warning or a config problem. */
    public static final class Invalid extends IllegalArgumentException {
        Invalid(String why) {
            super(why);
        }
    }

    /** {@link #compile(String, int)} with the default length limit. */
    public static LinePattern compile(String regex) {
        return compile(regex, DEFAULT_MAX_LENGTH);
    }

    /** @throws Invalid saying why, when the pattern is too long, too large or does not compile */
    public static LinePattern compile(String regex, int maxLength) {
        if (regex.length() > maxLength) {
            throw new Invalid("is " + regex.length() + " characters long, more than limits.regex_max_length (" + maxLength + ")");
        }
        checkSize(regex);
        try {
            return LinePattern.user(com.google.re2j.Pattern.compile(regex));
        } catch (com.google.re2j.PatternSyntaxException e) {
            String at = e.getPattern() == null ? "" : ": `" + io.logferry.model.Printable.escape(
                    e.getPattern().length() > 40 ? e.getPattern().substring(0, 40) + "…" : e.getPattern()) + "`";
            String java = javaOnly(regex);
            throw new Invalid("does not compile (" + e.getDescription() + at + ")"
                    + (java == null ? "" : "; " + java + " is Java regex syntax, which RE2 (the syntax of labels and config, as in Filebeat) does not have"));
        } catch (StackOverflowError | OutOfMemoryError e) {
            // not reached after checkSize; kept so that no pattern text can end a thread
            throw new Invalid("is too complex to compile");
        }
    }

    /** The Java-only construct in a pattern RE2 refused, named for the warning; null when none is recognised. */
    static String javaOnly(String regex) {
        if (regex.contains("(?<=") || regex.contains("(?<!")) {
            return "lookbehind (?<= / (?<!";
        }
        if (regex.contains("(?=") || regex.contains("(?!")) {
            return "lookahead (?= / (?!";
        }
        if (regex.contains("(?>")) {
            return "an atomic group (?>";
        }
        for (int i = 0; i + 1 < regex.length(); i++) {
            char c = regex.charAt(i);
            char next = regex.charAt(i + 1);
            if (c == '\\') {
                if (next >= '1' && next <= '9') {
                    return "a backreference (\\1)";
                }
                i++;                      // an escaped character is a literal
            } else if (next == '+' && (c == '*' || c == '+' || c == '?' || c == '}')) {
                return "a possessive quantifier (++, *+)";
            }
        }
        if (regex.contains("\\Z") || regex.contains("\\G")) {
            return "\\Z or \\G";
        }
        return null;
    }

    /**
     * Bounds what compiling can cost: nesting depth of groups, and an upper bound of the atoms
     * after expanding counted repetitions ({@code x{n,m}} multiplies the atom before it by the
     * larger count; a group weighs the sum of its atoms). Conservative, never exact: a pattern it
     * passes may still be refused by the compiler, never the other way round.
     */
    static void checkSize(String regex) {
        new SizeScan(regex).run();
    }

    /** One pass of {@link #checkSize}: a token at a time, the running weight of each open group. */
    private static final class SizeScan {
        private final String regex;
        private final long[] sum = new long[MAX_DEPTH + 2];
        private int depth;
        /** The weight of the atom a following quantifier applies to. */
        private long last;
        private int i;

        SizeScan(String regex) {
            this.regex = regex;
        }

        void run() {
            while (i < regex.length()) {
                switch (regex.charAt(i)) {
                    case '\\' -> escape();
                    case '[' -> atom(1, classEnd(regex, i));
                    case '(' -> open();
                    case ')' -> close();
                    case '{' -> repeat();
                    case '*', '+', '?', '|', '^', '$' -> add(1, i + 1);     // a constant per operator
                    default -> atom(1, i + 1);
                }
                check(sum[depth]);
            }
        }

        private boolean at(int k, char c) {
            return k < regex.length() && regex.charAt(k) == c;
        }

        private void escape() {
            if (at(i + 1, 'Q')) {
                int end = regex.indexOf("\\E", i + 2);
                int stop = end < 0 ? regex.length() : end;
                sum[depth] += stop - (i + 2);
                last = 1;
                i = end < 0 ? regex.length() : end + 2;
            } else if ((at(i + 1, 'p') || at(i + 1, 'P')) && at(i + 2, '{')) {
                int end = regex.indexOf('}', i + 3);
                atom(1, end < 0 ? regex.length() : end + 1);
            } else {
                atom(1, i + 2);
            }
        }

        private void open() {
            if (++depth > MAX_DEPTH) {
                throw new Invalid("nests groups deeper than " + MAX_DEPTH);
            }
            sum[depth] = 0;
            last = 0;
            i++;
        }

        private void close() {
            if (depth > 0) {
                last = Math.max(1, sum[depth]);
                depth--;
                sum[depth] += last;
            }
            i++;
        }

        /** {@code {n,m}}: the atom before it counted max(n, m) times instead of once; else '{' is a literal. */
        private void repeat() {
            int end = regex.indexOf('}', i);
            long count = end < 0 ? -1 : maxCount(regex.substring(i + 1, end));
            if (count < 0) {
                atom(1, i + 1);
                return;
            }
            long grown = Math.min(MAX_EXPANDED + 1, last * Math.max(count, 1));
            sum[depth] = Math.min(MAX_EXPANDED + 1, sum[depth] + grown - last);
            last = grown;
            i = end + 1;
        }

        private void atom(long weight, int next) {
            last = weight;
            add(weight, next);
        }

        private void add(long weight, int next) {
            sum[depth] += weight;
            i = next;
        }
    }

    private static void check(long size) {
        if (size > MAX_EXPANDED) {
            throw new Invalid("expands to more than " + MAX_EXPANDED + " steps (counted repetitions such as {1000})");
        }
    }

    /** The larger count of {@code n}, {@code n,} or {@code n,m}; -1 when the text is not a count (then '{' is a literal). */
    private static long maxCount(String inner) {
        if (!inner.matches("\\d{1,9}(,\\d{0,9})?")) {
            return -1;
        }
        int comma = inner.indexOf(',');
        if (comma < 0) {
            return Long.parseLong(inner);
        }
        String hi = inner.substring(comma + 1);
        return hi.isEmpty() ? Long.parseLong(inner.substring(0, comma)) : Math.max(Long.parseLong(hi), Long.parseLong(inner.substring(0, comma)));
    }

    /** The index after the character class that starts at {@code start} (or the end of the text). */
    private static int classEnd(String regex, int start) {
        int i = start + 1;
        int n = regex.length();
        if (i < n && regex.charAt(i) == '^') {
            i++;
        }
        if (i < n && regex.charAt(i) == ']') {
            i++;
        }
        while (i < n) {
            char c = regex.charAt(i);
            if (c == '\\') {
                i += 2;
            } else if (c == '[' && i + 1 < n && regex.charAt(i + 1) == ':') {
                int end = regex.indexOf(":]", i + 2);
                i = end < 0 ? i + 1 : end + 2;
            } else if (c == ']') {
                return i + 1;
            } else {
                i++;
            }
        }
        return n;
    }
}
