package io.logferry.process;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Filebeat's {@code dissect}: splits a text field at the literal parts of a tokenizer
 * ({@code %{a} - %{b}}) into fields under {@code target_prefix}. No regexes: each delimiter is
 * looked for once, left to right, so the time is linear in the text times the delimiter's length.
 *
 * <p>Keys: {@code %{name}}; {@code %{}} and {@code %{?name}} skipped (a named skip's value can
 * still name an indirect field); {@code %{+name}} appended to {@code name}, joined by the
 * delimiter before it (a space when that is empty), in order of {@code /n} when given
 * ({@code %{+name/2}}); {@code %{&name}} a field named by the value of {@code name};
 * {@code %{name->}} the delimiter after it may repeat (padding); {@code %{name|integer}}
 * converted ({@code integer}, {@code long}, {@code float}, {@code double}, {@code boolean};
 * {@code ip} stays text).
 *
 * <p>The text must start with the tokenizer's first delimiter. What follows the last delimiter
 * is ignored; with no delimiter after the last key, that key takes the rest. A text that does
 * not match flags the event ({@code log.flags: dissect_parsing_error}) and, without
 * {@code ignore_failure}, ends the chain; the event is kept. Immutable.
 */
final class Dissect implements Processor {
    static final String FLAG = io.logferry.model.ProcessorChain.DISSECT_PARSING_ERROR;

    enum Trim { NONE, LEFT, RIGHT, ALL }

    /** One {@code %{...}} of the tokenizer. */
    record Key(String name, Kind kind, int order, boolean padded, String convert, String before) { }

    enum Kind { FIELD, SKIP, NAMED_SKIP, APPEND, INDIRECT }

    private final String tokenizer;
    private final String[] field;
    private final String fieldName;
    private final String prefix;
    private final boolean ignoreFailure;
    private final boolean overwrite;
    private final Trim trim;
    private final String trimChars;
    /** delimiters[i] comes before keys[i]; delimiters[keys.length] after the last key ("" when none). */
    private final String[] delimiters;
    private final Key[] keys;
    /** The target path of each key's name, made once (an indirect key's name comes from the text: made per event). */
    private final Map<String, String[]> targets;

    Dissect(String tokenizer, String field, String prefix, boolean ignoreFailure, boolean overwrite, Trim trim, String trimChars) {
        this.tokenizer = tokenizer;
        this.fieldName = field;
        this.field = Fields.path(field);
        this.prefix = prefix;
        this.ignoreFailure = ignoreFailure;
        this.overwrite = overwrite;
        this.trim = trim;
        this.trimChars = trimChars;
        List<String> delims = new ArrayList<>();
        List<Key> ks = new ArrayList<>();
        parse(tokenizer, delims, ks);
        this.delimiters = delims.toArray(String[]::new);
        this.keys = ks.toArray(Key[]::new);
        if (!prefix.isEmpty()) {
            Fields.path(prefix);
        }
        Map<String, String[]> t = new java.util.HashMap<>();
        for (Key k : keys) {
            if (k.kind() == Kind.FIELD || k.kind() == Kind.APPEND) {
                t.put(k.name(), Fields.path(prefix.isEmpty() ? k.name() : prefix + "." + k.name()));
            }
        }
        this.targets = Map.copyOf(t);
        for (Key k : keys) {
            if (k.kind() != Kind.SKIP && k.kind() != Kind.NAMED_SKIP && k.kind() != Kind.INDIRECT) {
                Fields.path(k.name());       // a field name ES would refuse is refused here
            }
            if (k.kind() == Kind.INDIRECT && ks.stream().noneMatch(o -> o.name().equals(k.name()) && o.kind() != Kind.INDIRECT)) {
                throw new IllegalArgumentException("indirect key %{&" + k.name() + "} has no key " + k.name() + " to name it");
            }
        }
    }

    /** The keys of the tokenizer, for the limits on fields. */
    int keyCount() {
        return keys.length;
    }

    private static void parse(String tok, List<String> delims, List<Key> keys) {
        int pos = 0;
        StringBuilder literal = new StringBuilder();
        while (pos < tok.length()) {
            int open = tok.indexOf("%{", pos);
            if (open < 0) {
                literal.append(tok, pos, tok.length());
                break;
            }
            int close = tok.indexOf('}', open + 2);
            if (close < 0) {
                throw new IllegalArgumentException("tokenizer has a '%{' without its '}'");
            }
            literal.append(tok, pos, open);
            if (!keys.isEmpty() && literal.isEmpty()) {
                throw new IllegalArgumentException("tokenizer has two keys with nothing between them");
            }
            delims.add(literal.toString());
            literal.setLength(0);
            keys.add(key(tok.substring(open + 2, close), delims.get(delims.size() - 1)));
            pos = close + 1;
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("tokenizer has no %{key}");
        }
        delims.add(literal.toString());
    }

    private static Key key(String raw, String before) {
        String s = raw;
        boolean padded = false;
        if (s.endsWith("->")) {
            padded = true;
            s = s.substring(0, s.length() - 2);
        }
        String convert = null;
        int bar = s.lastIndexOf('|');
        if (bar >= 0) {
            convert = s.substring(bar + 1).trim().toLowerCase(Locale.ROOT);
            s = s.substring(0, bar);
            if (!List.of("integer", "long", "float", "double", "boolean", "ip", "string").contains(convert)) {
                throw new IllegalArgumentException("%{" + raw + "}: '" + convert + "' is not integer, long, float, double, boolean or ip");
            }
            if (s.endsWith("->")) {
                padded = true;
                s = s.substring(0, s.length() - 2);
            }
        }
        if (s.isEmpty()) {
            return new Key("", Kind.SKIP, 0, padded, null, before);
        }
        char c = s.charAt(0);
        if (c == '?' || c == '*') {
            return new Key(name(raw, s.substring(1)), Kind.NAMED_SKIP, 0, padded, null, before);
        }
        if (c == '&') {
            return new Key(name(raw, s.substring(1)), Kind.INDIRECT, 0, padded, convert, before);
        }
        if (c == '+') {
            String n = s.substring(1);
            int order = 0;
            int slash = n.lastIndexOf('/');
            if (slash >= 0) {
                try {
                    order = Integer.parseInt(n.substring(slash + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("%{" + raw + "}: the order after '/' is not a number");
                }
                n = n.substring(0, slash);
            }
            return new Key(name(raw, n), Kind.APPEND, order, padded, convert, before);
        }
        return new Key(name(raw, s), Kind.FIELD, 0, padded, convert, before);
    }

    private static String name(String raw, String n) {
        if (n.isEmpty()) {
            throw new IllegalArgumentException("%{" + raw + "} has no name");
        }
        return n;
    }

    @Override
    public Outcome run(Map<String, Object> event) {
        Object v = Fields.get(event, field);
        if (!(v instanceof String text)) {
            return Outcome.STOP;            // Filebeat: an error, no flag (the field is missing or not text)
        }
        Map<String, Object> found = dissect(text);
        if (found == null) {
            flag(event);
            return ignoreFailure ? Outcome.CONTINUE : Outcome.STOP;
        }
        String[][] paths = new String[found.size()][];
        int n = 0;
        for (String k : found.keySet()) {
            paths[n++] = target(k);         // null: a name from the text no field can have
        }
        if (!overwrite) {
            for (String[] p : paths) {
                if (p != null && Fields.get(event, p) != null) {
                    return Outcome.STOP;    // Filebeat: "cannot override existing key", the event unchanged
                }
            }
        }
        n = 0;
        for (Object value : found.values()) {
            String[] p = paths[n++];
            if (p != null) {
                Fields.put(event, p, value, true);
            }
        }
        return Outcome.CONTINUE;
    }

    /** The path of a found key; one an indirect key took from the text is bounded ({@link Fields#contentPath}), null when unusable. */
    private String[] target(String key) {
        String[] known = targets.get(key);
        return known != null ? known : Fields.contentPath(prefix.isEmpty() ? key : prefix + "." + key);
    }

    static void flag(Map<String, Object> event) {
        Fields.flag(event, FLAG);
    }

    /**
     * The fields {@code text} dissects into, in the tokenizer's order (names relative to the
     * target prefix), or null when it does not match. Pure; for the table tests.
     */
    Map<String, Object> dissect(String text) {
        String[] values = new String[keys.length];
        if (!text.startsWith(delimiters[0])) {
            return null;
        }
        int pos = delimiters[0].length();
        for (int i = 0; i < keys.length; i++) {
            String next = delimiters[i + 1];
            int start = pos;
            int end;
            if (next.isEmpty()) {
                end = text.length();            // the last key takes the rest
                pos = end;
            } else {
                end = text.indexOf(next, pos);
                if (end < 0) {
                    return null;
                }
                pos = end + next.length();
                if (keys[i].padded()) {
                    while (text.startsWith(next, pos)) {
                        pos += next.length();
                    }
                }
            }
            values[i] = trim(text.substring(start, end));
        }
        return assemble(values);
    }

    private Map<String, Object> assemble(String[] values) {
        Map<String, String> named = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            Key k = keys[i];
            if (k.kind() == Kind.FIELD || k.kind() == Kind.NAMED_SKIP) {
                named.putIfAbsent(k.name(), values[i]);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        // appends: each name's parts (its plain key first, then by /n), joined by the delimiter before each part
        Map<String, List<Integer>> parts = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            Key k = keys[i];
            if (k.kind() == Kind.APPEND || (k.kind() == Kind.FIELD && hasAppend(k.name()))) {
                parts.computeIfAbsent(k.name(), n -> new ArrayList<>()).add(i);
            }
        }
        for (int i = 0; i < keys.length; i++) {
            Key k = keys[i];
            switch (k.kind()) {
                case FIELD -> {
                    if (parts.containsKey(k.name())) {
                        join(k.name(), parts.get(k.name()), values, out);
                    } else if (!out.containsKey(k.name())) {
                        if (!put(out, k.name(), values[i], k.convert())) {
                            return null;
                        }
                    }
                }
                case APPEND -> join(k.name(), parts.get(k.name()), values, out);
                case INDIRECT -> {
                    String name = named.get(k.name());
                    if (name != null && validPath(name) && !put(out, name, values[i], k.convert())) {
                        return null;
                    }
                }
                case SKIP, NAMED_SKIP -> {
                }
            }
        }
        return out;
    }

    /** A name from the text (an indirect key) that makes a field Elasticsearch accepts: not empty, no empty part. */
    private static boolean validPath(String name) {
        if (name.isEmpty() || name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
            return false;
        }
        return true;
    }

    private boolean hasAppend(String name) {
        for (Key k : keys) {
            if (k.kind() == Kind.APPEND && k.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private void join(String name, List<Integer> idx, String[] values, Map<String, Object> out) {
        if (out.containsKey(name)) {
            return;
        }
        List<Integer> sorted = new ArrayList<>(idx);
        sorted.sort(Comparator.comparingInt(i -> keys[i].order()));     // stable: the tokenizer's order among equals
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < sorted.size(); j++) {
            int i = sorted.get(j);
            if (j > 0) {
                b.append(keys[i].before().isEmpty() ? " " : keys[i].before());
            }
            b.append(values[i]);
        }
        out.put(name, b.toString());
    }

    private static boolean put(Map<String, Object> out, String name, String value, String convert) {
        Object v = value;
        if (convert != null) {
            try {
                v = switch (convert) {
                    case "integer", "long" -> Long.parseLong(value.trim());
                    case "float", "double" -> {
                        double d = Double.parseDouble(value.trim());
                        if (Double.isNaN(d) || Double.isInfinite(d)) {
                            throw new NumberFormatException(value);
                        }
                        yield d;
                    }
                    case "boolean" -> switch (value.trim().toLowerCase(Locale.ROOT)) {
                        case "true" -> Boolean.TRUE;
                        case "false" -> Boolean.FALSE;
                        default -> throw new NumberFormatException(value);
                    };
                    default -> value;
                };
            } catch (NumberFormatException e) {
                return false;
            }
        }
        out.put(name, v);
        return true;
    }

    private String trim(String v) {
        if (trim == Trim.NONE) {
            return v;
        }
        int from = 0;
        int to = v.length();
        if (trim == Trim.LEFT || trim == Trim.ALL) {
            while (from < to && trimChars.indexOf(v.charAt(from)) >= 0) {
                from++;
            }
        }
        if (trim == Trim.RIGHT || trim == Trim.ALL) {
            while (to > from && trimChars.indexOf(v.charAt(to - 1)) >= 0) {
                to--;
            }
        }
        return v.substring(from, to);
    }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder("dissect tokenizer=").append(Chain.quote(tokenizer));
        if (!fieldName.equals("message")) {
            b.append(" field=").append(fieldName);
        }
        b.append(" target_prefix=").append(Chain.quote(prefix));
        if (ignoreFailure) {
            b.append(" ignore_failure=true");
        }
        if (overwrite) {
            b.append(" overwrite_keys=true");
        }
        if (trim != Trim.NONE) {
            b.append(" trim_values=").append(trim.name().toLowerCase(Locale.ROOT)).append(" trim_chars=").append(Chain.quote(trimChars));
        }
        return b.toString();
    }
}
