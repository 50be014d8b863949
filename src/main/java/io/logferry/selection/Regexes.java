package io.logferry.selection;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Compiles the regular expressions users write in labels and config. Filebeat's hints are RE2
 * (Go) syntax, where POSIX classes such as {@code [[:space:]]} are common in published examples;
 * Java spells them {@code \p{Space}}. They are translated so that existing labels keep working.
 */
public final class Regexes {
    private static final Map<String, String> POSIX = Map.ofEntries(
            Map.entry("[:alnum:]", "\\p{Alnum}"), Map.entry("[:alpha:]", "\\p{Alpha}"), Map.entry("[:ascii:]", "\\p{ASCII}"),
            Map.entry("[:blank:]", "\\p{Blank}"), Map.entry("[:cntrl:]", "\\p{Cntrl}"), Map.entry("[:digit:]", "\\p{Digit}"),
            Map.entry("[:graph:]", "\\p{Graph}"), Map.entry("[:lower:]", "\\p{Lower}"), Map.entry("[:print:]", "\\p{Print}"),
            Map.entry("[:punct:]", "\\p{Punct}"), Map.entry("[:space:]", "\\s"), Map.entry("[:upper:]", "\\p{Upper}"),
            Map.entry("[:word:]", "\\w"), Map.entry("[:xdigit:]", "\\p{XDigit}"));

    private Regexes() { }

    /** @throws java.util.regex.PatternSyntaxException when the expression does not compile */
    public static Pattern compile(String regex) {
        String java = regex;
        if (java.contains("[:")) {
            for (Map.Entry<String, String> e : POSIX.entrySet()) {
                java = java.replace(e.getKey(), e.getValue());
            }
        }
        return Pattern.compile(java);
    }
}
