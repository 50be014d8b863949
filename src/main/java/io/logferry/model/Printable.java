package io.logferry.model;

/**
 * Makes untrusted text (label keys and values, container names, anything a container's owner
 * wrote) safe to put on one line of the agent's text log or of {@code check}'s output: no
 * character of it can end the line, move the cursor or talk to the terminal. Pure and stateless.
 *
 * <p>Escaped: the C0 controls (U+0000–U+001F, newline and tab included), DEL (U+007F), the C1
 * controls (U+0080–U+009F, which some terminals read as ESC sequences), the Unicode line and
 * paragraph separators (U+2028, U+2029), the bidirectional overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069, "Trojan Source") and lone surrogates. Newline, carriage return, tab and ESC are
 * written {@code \n}, {@code \r}, {@code \t}, {@code \e}; the others {@code \xHH} below U+0100,
 * else a backslash, u and four hex digits. A backslash is left as it is, so that escaping is idempotent
 * ({@code escape(escape(s)).equals(escape(s))}) and text escaped by the caller is not escaped twice
 * by the log layout; the price is that a literal {@code \n} and a newline read the same.
 */
public final class Printable {
    /** How much of a value a warning quotes: {@link #quote(String)}. */
    public static final int QUOTE_MAX_CHARS = 200;

    private Printable() { }

    /** Whether {@code c} is escaped by {@link #escape}, not counting lone surrogates. */
    public static boolean unsafe(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
                || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }

    /** {@code s} with every unsafe character escaped; {@code s} itself when it has none. Null gives "null". */
    public static String escape(String s) {
        if (s == null) {
            return "null";
        }
        int i = firstUnsafe(s);
        if (i < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        b.append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c) || unsafe(c)) {
                switch (c) {
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    case '\u001b' -> b.append("\\e");
                    default -> b.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static int firstUnsafe(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c) || unsafe(c)) {
                return i;
            }
        }
        return -1;
    }

    /** {@link #quote(String, int)} at {@link #QUOTE_MAX_CHARS}. */
    public static String quote(String value) {
        return quote(value, QUOTE_MAX_CHARS);
    }

    /**
     * A value for a warning: in single quotes, escaped, and cut after {@code maxChars} characters
     * of the original with the original's length after it, so that a 40 KB label gives a short
     * line: {@code 'aaaa…'…(40960 chars)}. Never splits a surrogate pair.
     */
    public static String quote(String value, int maxChars) {
        if (value == null) {
            return "null";
        }
        if (value.length() <= maxChars) {
            return "'" + escape(value) + "'";
        }
        int cut = maxChars;
        if (cut > 0 && Character.isHighSurrogate(value.charAt(cut - 1))) {
            cut--;
        }
        return "'" + escape(value.substring(0, cut)) + "'…(" + value.length() + " chars)";
    }
}
