package io.logferry.process;

import java.text.ParsePosition;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.time.temporal.TemporalQueries;
import java.util.Locale;

/**
 * A Go reference-time layout ({@code 2006-01-02T15:04:05Z07:00}, {@code Jan _2 15:04:05}), as
 * Filebeat's {@code timestamp} processor takes them, turned into a parser of our own (the layout's
 * elements are Go's {@code time} package's, documented there; the code is not Go's). Parsing
 * accepts a fractional second after the seconds even when the layout has none, as Go does; a
 * layout without a year takes the current year in the zone; without a zone in the text, the
 * processor's {@code timezone}. The weekday is read and not checked, as Go does. Immutable.
 */
final class GoLayout {
    private final String layout;
    private final DateTimeFormatter format;
    private final boolean hasYear;

    private GoLayout(String layout, DateTimeFormatter format, boolean hasYear) {
        this.layout = layout;
        this.format = format;
        this.hasYear = hasYear;
    }

    /** The layout's parser; an {@link IllegalArgumentException} when it names no date or time element. */
    static GoLayout of(String layout) {
        DateTimeFormatterBuilder b = new DateTimeFormatterBuilder().parseCaseInsensitive();
        boolean year = false;
        boolean any = false;
        int i = 0;
        while (i < layout.length()) {
            char c = layout.charAt(i);
            // Go's fraction elements: ".000" / ",000" (exactly n digits), ".999" (at most n, optional)
            if ((c == '.' || c == ',') && i + 1 < layout.length() && (layout.charAt(i + 1) == '0' || layout.charAt(i + 1) == '9')) {
                char d = layout.charAt(i + 1);
                int n = 1;
                while (i + 1 + n < layout.length() && layout.charAt(i + 1 + n) == d) {
                    n++;
                }
                if (!(i + 1 + n < layout.length() && Character.isDigit(layout.charAt(i + 1 + n))) && n <= 9) {
                    if (d == '0') {
                        b.appendLiteral(c).appendFraction(ChronoField.NANO_OF_SECOND, n, n, false);
                    } else {
                        b.optionalStart().appendLiteral(c).appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, false).optionalEnd();     // Go: any number of digits
                    }
                    i += 1 + n;
                    continue;
                }
            }
            String rest = layout.substring(i);
            String token = null;
            for (String t : TOKENS) {
                if (rest.startsWith(t)) {
                    token = t;
                    break;
                }
            }
            if (token == null) {
                b.appendLiteral(c);
                i++;
                continue;
            }
            any = true;
            switch (token) {
                case "January" -> b.appendText(ChronoField.MONTH_OF_YEAR, TextStyle.FULL);
                case "Jan" -> b.appendText(ChronoField.MONTH_OF_YEAR, TextStyle.SHORT);
                case "Monday" -> b.appendText(ChronoField.DAY_OF_WEEK, TextStyle.FULL);
                case "Mon" -> b.appendText(ChronoField.DAY_OF_WEEK, TextStyle.SHORT);
                case "MST" -> b.appendZoneText(TextStyle.SHORT);
                case "2006" -> {
                    b.appendValue(ChronoField.YEAR, 4);
                    year = true;
                }
                case "06" -> {
                    b.appendValueReduced(ChronoField.YEAR, 2, 2, 1969);
                    year = true;
                }
                case "01" -> b.appendValue(ChronoField.MONTH_OF_YEAR, 2);
                case "1" -> b.appendValue(ChronoField.MONTH_OF_YEAR);
                case "02" -> b.appendValue(ChronoField.DAY_OF_MONTH, 2);
                case "_2" -> b.padNext(2, ' ').appendValue(ChronoField.DAY_OF_MONTH);
                case "2" -> b.appendValue(ChronoField.DAY_OF_MONTH);
                case "002" -> b.appendValue(ChronoField.DAY_OF_YEAR, 3);
                case "__2" -> b.padNext(3, ' ').appendValue(ChronoField.DAY_OF_YEAR);
                case "15" -> b.appendValue(ChronoField.HOUR_OF_DAY, 2);
                case "03" -> b.appendValue(ChronoField.CLOCK_HOUR_OF_AMPM, 2);
                case "3" -> b.appendValue(ChronoField.CLOCK_HOUR_OF_AMPM);
                case "04" -> b.appendValue(ChronoField.MINUTE_OF_HOUR, 2);
                case "4" -> b.appendValue(ChronoField.MINUTE_OF_HOUR);
                case "05", "5" -> {
                    if (token.equals("05")) {
                        b.appendValue(ChronoField.SECOND_OF_MINUTE, 2);
                    } else {
                        b.appendValue(ChronoField.SECOND_OF_MINUTE);
                    }
                    if (!layout.startsWith(".0", i + token.length()) && !layout.startsWith(".9", i + token.length())
                            && !layout.startsWith(",0", i + token.length()) && !layout.startsWith(",9", i + token.length())) {
                        // Go: a fraction after the seconds is accepted when parsing, even if the layout has none
                        b.optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd();
                    }
                }
                case "PM", "pm" -> b.appendText(ChronoField.AMPM_OF_DAY, java.util.Map.of(0L, "AM", 1L, "PM"));
                case "Z07:00:00", "-07:00:00" -> b.appendOffset("+HH:MM:ss", token.startsWith("Z") ? "Z" : "+00:00:00");
                case "Z070000", "-070000" -> b.appendOffset("+HHMMss", token.startsWith("Z") ? "Z" : "+000000");
                case "Z07:00", "-07:00" -> b.appendOffset("+HH:MM", token.startsWith("Z") ? "Z" : "+00:00");
                case "Z0700", "-0700" -> b.appendOffset("+HHMM", token.startsWith("Z") ? "Z" : "+0000");
                case "Z07", "-07" -> b.appendOffset("+HH", token.startsWith("Z") ? "Z" : "+00");
                default -> throw new IllegalStateException(token);
            }
            i += token.length();
        }
        if (!any) {
            throw new IllegalArgumentException("layout '" + layout + "' has no element of Go's reference time (Mon Jan 2 15:04:05 MST 2006)");
        }
        return new GoLayout(layout, b.toFormatter(Locale.ENGLISH), year);     // Go's names are English
    }

    /** Go's layout elements, longest first where one starts another. */
    private static final String[] TOKENS = {
        "January", "Jan", "Monday", "Mon", "MST", "2006", "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
        "-07:00:00", "-070000", "-07:00", "-0700", "-07", "002", "__2", "_2", "01", "02", "03", "04", "05", "06", "15",
        "1", "2", "3", "4", "5", "PM", "pm"
    };

    /** The instant {@code text} names, or null when it does not fit the layout. */
    Instant parse(String text, ZoneId zone) {
        ParsePosition pos = new ParsePosition(0);
        TemporalAccessor t;
        try {
            t = format.parseUnresolved(text, pos);
        } catch (DateTimeException | IndexOutOfBoundsException e) {
            return null;
        }
        if (t == null || pos.getErrorIndex() >= 0 || pos.getIndex() != text.length()) {
            return null;
        }
        try {
            ZoneId z = t.query(TemporalQueries.zone());
            if (z == null && t.isSupported(ChronoField.OFFSET_SECONDS)) {
                z = ZoneOffset.ofTotalSeconds((int) t.getLong(ChronoField.OFFSET_SECONDS));
            }
            ZoneId in = z != null ? z : zone;
            int year = hasYear ? (int) t.getLong(ChronoField.YEAR) : LocalDate.now(in).getYear();
            LocalDate date;
            if (t.isSupported(ChronoField.DAY_OF_YEAR) && !t.isSupported(ChronoField.MONTH_OF_YEAR)) {
                date = LocalDate.ofYearDay(year, (int) t.getLong(ChronoField.DAY_OF_YEAR));
            } else {
                int month = t.isSupported(ChronoField.MONTH_OF_YEAR) ? (int) t.getLong(ChronoField.MONTH_OF_YEAR) : 1;
                int day = t.isSupported(ChronoField.DAY_OF_MONTH) ? (int) t.getLong(ChronoField.DAY_OF_MONTH) : 1;
                date = LocalDate.of(year, month, day);
            }
            int hour = 0;
            if (t.isSupported(ChronoField.HOUR_OF_DAY)) {
                hour = (int) t.getLong(ChronoField.HOUR_OF_DAY);
            } else if (t.isSupported(ChronoField.CLOCK_HOUR_OF_AMPM)) {
                hour = (int) t.getLong(ChronoField.CLOCK_HOUR_OF_AMPM) % 12;
                if (t.isSupported(ChronoField.AMPM_OF_DAY) && t.getLong(ChronoField.AMPM_OF_DAY) == 1) {
                    hour += 12;
                }
            }
            int minute = t.isSupported(ChronoField.MINUTE_OF_HOUR) ? (int) t.getLong(ChronoField.MINUTE_OF_HOUR) : 0;
            int second = t.isSupported(ChronoField.SECOND_OF_MINUTE) ? (int) t.getLong(ChronoField.SECOND_OF_MINUTE) : 0;
            int nano = t.isSupported(ChronoField.NANO_OF_SECOND) ? (int) t.getLong(ChronoField.NANO_OF_SECOND) : 0;
            return LocalDateTime.of(date, java.time.LocalTime.of(hour, minute, second, nano)).atZone(in).toInstant();
        } catch (DateTimeException | ArithmeticException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return layout;
    }
}
