package io.logferry.model;

import java.util.Locale;

/** Filebeat's {@code multiline.match}: a matching line belongs to the line before it ({@code after}) or after it ({@code before}). */
public enum MultilineMatch {
    AFTER,
    BEFORE;

    /** The word used in the config and in labels. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The match spelt exactly {@code word} ({@code after}, {@code before}), or null. */
    public static MultilineMatch of(String word) {
        for (MultilineMatch m : values()) {
            if (m.word().equals(word)) {
                return m;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return word();
    }
}
