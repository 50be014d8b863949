package io.logferry.selection;

import java.util.List;
import java.util.Locale;

/**
 * The globs of {@code labels.allowed_*}: {@code *} any run of characters, {@code ?} one
 * character, everything else itself; case-insensitive (data stream names are lower case).
 * Matching is iterative, in time at most the product of the two lengths. Pure.
 */
public final class Globs {
    private Globs() { }

    public static boolean anyMatches(List<String> globs, String text) {
        for (String g : globs) {
            if (matches(g, text)) {
                return true;
            }
        }
        return false;
    }

    public static boolean matches(String glob, String text) {
        String g = glob.toLowerCase(Locale.ROOT);
        String t = text.toLowerCase(Locale.ROOT);
        int gi = 0;
        int ti = 0;
        int star = -1;          // the glob index after the last '*' seen
        int mark = 0;           // the text index that '*' was last tried to stop at
        while (ti < t.length()) {
            if (gi < g.length() && (g.charAt(gi) == '?' || g.charAt(gi) == t.charAt(ti))) {
                gi++;
                ti++;
            } else if (gi < g.length() && g.charAt(gi) == '*') {
                star = ++gi;
                mark = ti;
            } else if (star >= 0) {
                gi = star;
                ti = ++mark;
            } else {
                return false;
            }
        }
        while (gi < g.length() && g.charAt(gi) == '*') {
            gi++;
        }
        return gi == g.length();
    }
}
