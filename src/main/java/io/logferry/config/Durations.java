package io.logferry.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations as users write them: {@code 500ms}, {@code 1s}, {@code 5m}, {@code 1h}, or a plain number of seconds. */
public final class Durations {
    private static final Pattern FORM = Pattern.compile("(\\d{1,12})(ms|s|m|h)?");
    /** Longer durations are refused: nothing in logferry waits for more than a year. */
    public static final Duration MAX = Duration.ofDays(366);

    private Durations() { }

    /**
     * @throws IllegalArgumentException naming the accepted forms when the text is not one of them,
     *         or when it is longer than {@link #MAX} (never an arithmetic overflow)
     */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            throw new IllegalArgumentException("'" + shown + "' is not a duration (e.g. 500ms, 1s, 5m, 1h; at most 12 digits)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        // at most 12 digits: no unit below overflows a Duration
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("'" + text + "' is longer than " + MAX.toDays() + " days");
        }
        return d;
    }
}
