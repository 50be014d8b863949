package io.logferry.model;

import java.util.Objects;

/**
 * A regular expression that lines are tested against ({@code find}: anywhere in the line).
 * Patterns that users write (labels, config) run on RE2/J, whose time is linear in the line's
 * length whatever the pattern; the two built-in multiline rules, fixed text of ours, run on
 * {@code java.util.regex}, which is faster for them. Equal when their source text is equal.
 */
public final class LinePattern {
    private final String source;
    private final com.google.re2j.Pattern user;
    private final java.util.regex.Pattern builtin;

    private LinePattern(String source, com.google.re2j.Pattern user, java.util.regex.Pattern builtin) {
        this.source = source;
        this.user = user;
        this.builtin = builtin;
    }

    /** A pattern someone else wrote, already compiled and checked by {@link Regexes}. */
    static LinePattern user(com.google.re2j.Pattern compiled) {
        return new LinePattern(compiled.pattern(), compiled, null);
    }

    /** One of our own fixed patterns; never for text that comes from a user. */
    public static LinePattern builtin(String regex) {
        return new LinePattern(regex, null, java.util.regex.Pattern.compile(regex));
    }

    /** Whether the pattern matches anywhere in {@code text}. */
    public boolean find(CharSequence text) {
        return user != null ? user.matcher(text).find() : builtin.matcher(text).find();
    }

    /**
     * {@code text} with every match replaced by {@code replacement} ({@code $1}, {@code ${name}}:
     * groups), as RE2 does it; null when the result would be longer than {@code maxChars} (an empty
     * pattern and a long replacement would otherwise multiply the text) or the replacement names a
     * group the pattern does not have.
     */
    public String replaceAll(String text, String replacement, long maxChars) {
        if (user == null) {
            throw new IllegalStateException("builtin patterns do not replace");
        }
        com.google.re2j.Matcher m = user.matcher(text);
        StringBuilder out = new StringBuilder();
        try {
            while (m.find()) {
                m.appendReplacement(out, replacement);
                if (out.length() > maxChars) {
                    return null;
                }
            }
            m.appendTail(out);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            return null;
        }
        return out.length() > maxChars ? null : out.toString();
    }

    public String source() {
        return source;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LinePattern p && p.source.equals(source) && (p.user == null) == (user == null);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, user == null);
    }

    @Override
    public String toString() {
        return source;
    }
}
