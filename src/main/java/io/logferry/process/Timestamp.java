package io.logferry.process;

import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code timestamp}: parses the time in {@code field} with the first of {@code layouts} that fits
 * (Go reference layouts, {@code UNIX}, {@code UNIX_MS}) and writes it to {@code target_field}
 * ({@code @timestamp} by default: the document's time). Filebeat's options
 * (https://www.elastic.co/guide/en/beats/filebeat/current/processor-timestamp.html): {@code timezone}
 * for times without one (IANA name, {@code +0200}, {@code Local}; UTC by default),
 * {@code ignore_missing}, {@code ignore_failure}, {@code test} (times that must parse when the
 * processor is compiled, else it is refused).
 *
 * <p>The value written is an {@link Instant}: at {@code @timestamp} the document's time
 * ({@code Processing} takes it there, the only way content sets it), anywhere else its ISO-8601 text.
 */
record Timestamp(String field, String target, List<Object> layouts, ZoneId zone, boolean ignoreMissing, boolean ignoreFailure)
        implements Processor {
    /** The layout names that are not Go layouts. */
    private static final String UNIX = "UNIX";
    private static final String UNIX_MS = "UNIX_MS";

    Timestamp {
        layouts = List.copyOf(layouts);
        Fields.path(field);
        Fields.path(target);
    }

    static Processor compile(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("timestamp", o, Set.of("field", "target_field", "layouts", "timezone", "ignore_missing", "ignore_failure", "test", "id"));
        String field = o.getOrDefault("field", "").trim();
        if (field.isEmpty()) {
            throw new Compiler.Invalid("timestamp needs a field");
        }
        List<String> names = Compiler.list(o.get("layouts"));
        if (names.isEmpty()) {
            throw new Compiler.Invalid("timestamp needs layouts");
        }
        Compiler.count("timestamp.layouts", names.size(), b);
        List<Object> layouts = new ArrayList<>();
        for (String n : names) {
            if (n.equals(UNIX) || n.equals(UNIX_MS)) {
                layouts.add(n);
            } else {
                try {
                    layouts.add(GoLayout.of(n));
                } catch (IllegalArgumentException e) {
                    throw new Compiler.Invalid("timestamp.layouts: " + e.getMessage());
                }
            }
        }
        ZoneId zone = zone(o.getOrDefault("timezone", "UTC").trim());
        String target = o.getOrDefault("target_field", "@timestamp").trim();
        Timestamp t = new Timestamp(field, target.isEmpty() ? "@timestamp" : target, layouts, zone,
                Compiler.bool("timestamp.ignore_missing", o.get("ignore_missing"), false),
                Compiler.bool("timestamp.ignore_failure", o.get("ignore_failure"), false));
        List<String> tests = Compiler.list(o.get("test"));
        Compiler.count("timestamp.test", tests.size(), b);
        for (String s : tests) {
            if (t.parse(s) == null) {
                throw new Compiler.Invalid("timestamp.test '" + s + "' does not parse with layouts " + names);
            }
        }
        return t;
    }

    private static ZoneId zone(String tz) throws Compiler.Invalid {
        try {
            if (tz.equalsIgnoreCase("Local")) {
                return ZoneId.systemDefault();
            }
            if (tz.startsWith("+") || tz.startsWith("-")) {
                return ZoneOffset.of(tz);
            }
            return ZoneId.of(tz);
        } catch (DateTimeException e) {
            throw new Compiler.Invalid("timestamp.timezone '" + tz + "' is not an IANA zone, an offset like +0200, or Local");
        }
    }

    @Override
    public Outcome run(Map<String, Object> event) {
        String[] from = Fields.path(field);
        if (!Fields.has(event, from)) {
            return ignoreMissing || ignoreFailure ? Outcome.CONTINUE : Outcome.STOP;
        }
        Instant at = parse(Fields.get(event, from));
        if (at == null) {
            return ignoreFailure ? Outcome.CONTINUE : Outcome.STOP;
        }
        Fields.put(event, Fields.path(target), at, true);
        return Outcome.CONTINUE;
    }

    /** The instant of a value with the first layout that fits, or null. */
    Instant parse(Object value) {
        if (value instanceof Instant i) {
            return i;
        }
        if (value == null || value instanceof Map<?, ?> || value instanceof List<?> || value instanceof Boolean) {
            return null;
        }
        String text = String.valueOf(value).trim();
        if (text.isEmpty() || text.length() > 256) {
            return null;
        }
        for (Object l : layouts) {
            Instant i = l instanceof GoLayout g ? g.parse(text, zone) : epoch(text, l.equals(UNIX_MS));
            if (i != null) {
                return i;
            }
        }
        return null;
    }

    /** Seconds (with a fraction) or milliseconds since 1970, as a number or its text. */
    private static Instant epoch(String text, boolean millis) {
        if (text.indexOf('e') >= 0 || text.indexOf('E') >= 0) {
            return null;            // no exponents: 1e999999999 would cost a billion-digit number
        }
        try {
            BigDecimal n = new BigDecimal(text);
            BigDecimal nanos = n.movePointRight(millis ? 6 : 9);
            BigDecimal[] qr = nanos.divideAndRemainder(BigDecimal.valueOf(1_000_000_000L));
            return Instant.ofEpochSecond(qr[0].longValueExact(), qr[1].longValue());
        } catch (NumberFormatException | ArithmeticException | DateTimeException e) {
            return null;
        }
    }

    @Override
    public String describe() {
        List<String> ls = layouts.stream().map(String::valueOf).toList();
        return "timestamp field=" + field + (target.equals("@timestamp") ? "" : " target_field=" + target) + " layouts=" + ls
                + (zone.equals(ZoneOffset.UTC) || zone.getId().equals("UTC") ? "" : " timezone=" + zone.getId())
                + (ignoreMissing ? " ignore_missing=true" : "") + (ignoreFailure ? " ignore_failure=true" : "");
    }
}
