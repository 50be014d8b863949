package io.logferry.model;

import java.util.Locale;

/** {@code defaults.multiline.type} and the {@code logferry.multiline} label: which lines are joined. */
public enum MultilineType {
    /** No joining. */
    NONE,
    /** A Java stack trace: lines starting with whitespace, {@code at}, {@code ...}, {@code Caused by:} join the line before. */
    JAVA,
    /** A Python traceback. */
    PYTHON,
    /** Filebeat's rule: {@code pattern}, {@code negate}, {@code match}. */
    CUSTOM;

    /** The word used in the config and in labels. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The type spelt exactly {@code word} ({@code none}, {@code java}, {@code python}, {@code custom}), or null. */
    public static MultilineType of(String word) {
        for (MultilineType t : values()) {
            if (t.word().equals(word)) {
                return t;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return word();
    }
}
