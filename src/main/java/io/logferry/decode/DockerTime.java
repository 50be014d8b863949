package io.logferry.decode;

import java.time.DateTimeException;
import java.time.LocalDate;

/**
 * Docker's json-file timestamp ({@code "time":"2026-12-08T01:55:12.123456789Z"}: RFC 3339 in UTC,
 * as Docker's json-file driver writes it) to epoch milliseconds, for the read-lag histogram.
 * Cheap for consecutive lines: the date, hour and minute of the last timestamp are remembered, so
 * a line of the same minute costs a 16-character comparison and the parse of its seconds.
 *
 * <p>Total on any input: a string that is not in that form (another offset than {@code Z}, a
 * field out of range, garbage) gives {@link #NONE}, never an exception. The fraction may have 0 to
 * 9 digits; only its first three count.
 *
 * <p>Not thread-safe: one per reader (a tailer's thread).
 */
public final class DockerTime {
    /** Not a timestamp of Docker's form. */
    public static final long NONE = Long.MIN_VALUE;
    private static final int MINUTE_CHARS = 16;   // "2026-12-08T01:55"

    private String minute;
    private long minuteMillis;

    /** Epoch milliseconds of {@code t}, or {@link #NONE}. */
    public long epochMillis(String t) {
        if (t == null) {
            return NONE;
        }
        int len = t.length();
        // "YYYY-MM-DDTHH:MM:SSZ" at least, "…:SS.123456789Z" at most
        if (len < 20 || len > 30 || t.charAt(len - 1) != 'Z' || t.charAt(16) != ':') {
            return NONE;
        }
        long base;
        if (minute != null && t.regionMatches(0, minute, 0, MINUTE_CHARS)) {
            base = minuteMillis;
        } else {
            base = parseMinute(t);
            if (base == NONE) {
                return NONE;
            }
            minute = t.substring(0, MINUTE_CHARS);
            minuteMillis = base;
        }
        int s = twoDigits(t, 17);
        if (s < 0 || s > 60) {
            return NONE;
        }
        long millis = 0;
        if (len > 20) {
            // ".f…fZ": 1 to 9 digits
            if (t.charAt(19) != '.' || len == 21) {
                return NONE;
            }
            int scale = 100;
            for (int i = 20; i < len - 1; i++) {
                int d = t.charAt(i) - '0';
                if (d < 0 || d > 9) {
                    return NONE;
                }
                millis += d * scale;
                scale /= 10;
            }
        }
        return base + s * 1000L + millis;
    }

    private static long parseMinute(String t) {
        if (t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != 'T' || t.charAt(13) != ':') {
            return NONE;
        }
        int y1 = twoDigits(t, 0);
        int y2 = twoDigits(t, 2);
        int mo = twoDigits(t, 5);
        int d = twoDigits(t, 8);
        int h = twoDigits(t, 11);
        int mi = twoDigits(t, 14);
        if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59) {
            return NONE;
        }
        long day;
        try {
            day = LocalDate.of(y1 * 100 + y2, mo, d).toEpochDay();
        } catch (DateTimeException e) {
            return NONE;
        }
        return ((day * 24 + h) * 60 + mi) * 60_000L;
    }

    /** The number of two decimal digits at {@code at}, or -1. */
    private static int twoDigits(String t, int at) {
        int a = t.charAt(at) - '0';
        int b = t.charAt(at + 1) - '0';
        return a < 0 || a > 9 || b < 0 || b > 9 ? -1 : a * 10 + b;
    }
}
