package io.logferry.model;

import java.util.Locale;

/**
 * The boolean words labels and processor options accept, in any case and with spaces around:
 * {@code true}/{@code yes}/{@code on}/{@code 1} and {@code false}/{@code no}/{@code off}/{@code 0}.
 * Parsed here only, for the labels ({@code Selector}) and the processors ({@code Compiler}) alike.
 */
public final class Booleans {
    private Booleans() {
    }

    /** The word's value, or null when it is not one of the words. */
    public static Boolean parse(String v) {
        if (v == null) {
            return null;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> Boolean.TRUE;
            case "false", "no", "off", "0" -> Boolean.FALSE;
            default -> null;
        };
    }
}
