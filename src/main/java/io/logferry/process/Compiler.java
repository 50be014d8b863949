package io.logferry.process;

import io.logferry.model.Booleans;
import io.logferry.model.LinePattern;
import io.logferry.model.Printable;
import io.logferry.model.Regexes;
import io.logferry.model.Utf8;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compiles one processor from its kind and its options, as the labels give them (keys relative
 * to the kind: {@code tokenizer}, {@code fields.name}, {@code when.equals.stream}). Total and
 * bounded: anything invalid or beyond a bound is an {@link Invalid} naming the option, never
 * another exception; a label cannot make a processor bigger than the bounds (option values of at
 * most {@code maxValueBytes}, at most {@code maxFields} keys, fields, tags or condition leaves,
 * conditions nested at most {@value #MAX_DEPTH} deep). Pure.
 */
public final class Compiler {
    /** How deep {@code and}/{@code or}/{@code not} may nest. */
    public static final int MAX_DEPTH = 8;
    public static final List<String> KINDS = List.of("add_fields", "add_labels", "add_tags", "append", "convert", "copy_fields",
            "decode_base64_field", "decode_csv_fields", "decode_duration", "decode_json_fields", "dissect", "drop_event", "drop_fields",
            "extract_array", "fingerprint", "include_fields",
            "move_fields", "rename", "replace", "timestamp", "truncate_fields", "urldecode");

    /** A processor refused, with why (one line, naming the option). */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message);
        }
    }


    private Compiler() {
    }

    /**
     * @param maxValueBytes   {@code limits.processor_max_value_bytes}: one option value (a tokenizer, a field value)
     * @param maxFields       {@code limits.processor_max_fields}: keys, fields, tags or conditions of one processor
     * @param regexMaxLength  {@code limits.regex_max_length}: a {@code regexp} condition, a {@code replace} pattern
     * @param maxCount        {@code limits.processors_max_count}: processors of one container
     * @param maxBytes        {@code limits.container_labels_max_bytes}: the processor labels (keys and values) kept, together
     */
    public record Bounds(int maxValueBytes, int maxFields, int regexMaxLength, int maxCount, long maxBytes) {
        /** One processor's bounds (tests): no bound on the count or bytes of a chain. */
        public Bounds(int maxValueBytes, int maxFields, int regexMaxLength) {
            this(maxValueBytes, maxFields, regexMaxLength, Integer.MAX_VALUE, Long.MAX_VALUE);
        }
    }

    /**
     * A container's chain from its labels: the ones under {@code prefix} ({@code logferry.processors.}
     * or {@code co.elastic.logs/processors.}), numbered ones ({@code <prefix>1.dissect.tokenizer}) in
     * the order of their numbers, then unnumbered ones ({@code <prefix>dissect.tokenizer}) by kind.
     * The one place the label grammar is read. A processor refused (an unknown kind or option, an
     * invalid value, beyond a bound) is left out and named in {@link Chain#refused()}; the others run.
     * Total: never throws for any labels.
     */
    public static Chain compile(Map<String, String> labels, String prefix, Bounds b) {
        // "#<9 digits>" for numbered processors, "~<kind>" for unnumbered ones: numbered first, by number, then by kind
        Map<String, Map<String, String>> groups = new TreeMap<>();
        Map<String, Long> bytes = new TreeMap<>();
        for (Map.Entry<String, String> l : labels.entrySet()) {
            if (!l.getKey().startsWith(prefix)) {
                continue;
            }
            String rest = l.getKey().substring(prefix.length());
            int dot = rest.indexOf('.');
            String first = dot < 0 ? rest : rest.substring(0, dot);
            String group = number(first) ? "#" + "0".repeat(9 - first.length()) + first : "~" + first;
            groups.computeIfAbsent(group, g -> new TreeMap<>()).put(rest, l.getValue());       // options in key order
            bytes.merge(group, (long) Utf8.length(l.getKey()) + Utf8.length(l.getValue()), Long::sum);
        }
        List<Processor> kept = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        long total = 0;
        int beyond = 0;
        String firstBeyond = null;
        int unnamed = 0;
        for (Map.Entry<String, Map<String, String>> g : groups.entrySet()) {
            if (kept.size() >= b.maxCount()) {
                // all the rest in one refusal: a hundred thousand labels cost one pass and one warning
                if (beyond++ == 0) {
                    firstBeyond = g.getKey();
                }
                continue;
            }
            if (refused.size() >= MAX_REFUSALS) {
                unnamed++;
                continue;
            }
            boolean numbered = g.getKey().charAt(0) == '#';
            String name = numbered ? String.valueOf(Integer.parseInt(g.getKey().substring(1))) : g.getKey().substring(1);
            Map<String, String> options = new LinkedHashMap<>();
            java.util.Set<String> kinds = new java.util.TreeSet<>();
            for (Map.Entry<String, String> o : g.getValue().entrySet()) {
                String k = numbered ? o.getKey().substring(o.getKey().indexOf('.') + 1) : o.getKey();
                if (numbered && o.getKey().indexOf('.') < 0) {
                    k = "";
                }
                int d = k.indexOf('.');
                kinds.add(d < 0 ? k : k.substring(0, d));
                if (d >= 0 || !o.getValue().isBlank()) {
                    options.put(d < 0 ? "" : k.substring(d + 1), o.getValue());     // "<n>.drop_event=" alone: the kind, no option
                }
            }
            String kind = kinds.size() == 1 ? kinds.iterator().next() : "";
            String label = cut(Printable.escape(prefix + name + (numbered && !kind.isEmpty() ? "." + kind : ""))) + ".*";
            String why = null;
            if (kinds.size() != 1) {
                why = "names " + kinds.size() + " kinds " + kinds + ": one per number";
            } else if (total + bytes.get(g.getKey()) > b.maxBytes()) {
                // what a chain can add to every document is bounded like container.labels.*: all its options together
                why = "the processor labels are longer than limits.container_labels_max_bytes (" + b.maxBytes() + ") together";
            } else {
                try {
                    kept.add(processor(kind, options, b));
                    total += bytes.get(g.getKey());
                } catch (Invalid e) {
                    why = e.getMessage();
                }
            }
            if (why != null) {
                String w = Printable.escape(why);
                refused.add(label + ": " + (w.length() > 500 ? w.substring(0, 500) + "…" : w));
            }
        }
        if (unnamed > 0) {
            refused.add(Printable.escape(prefix) + "*: " + unnamed + " more processors refused (only the first " + MAX_REFUSALS + " are named)");
        }
        if (beyond > 0) {
            String first = firstBeyond.charAt(0) == '#' ? String.valueOf(Integer.parseInt(firstBeyond.substring(1))) : firstBeyond.substring(1);
            refused.add(cut(Printable.escape(prefix + first)) + ".*" + (beyond > 1 ? " and " + (beyond - 1) + " processors after it" : "")
                    + ": more than limits.processors_max_count (" + b.maxCount() + ") processors");
        }
        return new Chain(kept, refused);
    }

    /** Refused processors named one by one in a container's warnings; the rest are counted in one more. */
    static final int MAX_REFUSALS = 16;

    /** A label's name as a warning shows it: at most 120 characters (a kind may be as long as a label key). */
    private static String cut(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }

    /** One processor of {@code kind} from {@code options} (keys relative to the kind). */
    static Processor processor(String kind, Map<String, String> options, Bounds b) throws Invalid {
        try {
            for (Map.Entry<String, String> o : options.entrySet()) {
                if (Utf8.length(o.getValue()) > b.maxValueBytes()) {
                    throw new Invalid(kind + "." + o.getKey() + " is longer than limits.processor_max_value_bytes (" + b.maxValueBytes() + ")");
                }
            }
            Map<String, String> opts = new TreeMap<>(options);
            Map<String, String> when = new TreeMap<>();
            opts.entrySet().removeIf(e -> {
                if (e.getKey().startsWith("when.") || e.getKey().equals("when")) {
                    when.put(e.getKey(), e.getValue());
                    return true;
                }
                return false;
            });
            Processor p = switch (kind) {
                case "dissect" -> dissect(opts, b);
                case "add_fields" -> addFields(opts, b);
                case "add_tags" -> addTags(opts, b);
                case "drop_fields" -> dropFields(opts, b);
                case "rename" -> rename(opts, b);
                case "drop_event" -> {
                    known(kind, opts, Set.of());
                    yield new Simple.DropEvent();
                }
                case "decode_json_fields" -> DecodeJson.compile(opts, b);
                case "timestamp" -> Timestamp.compile(opts, b);
                default -> More.compile(kind, opts, b);
            };
            if (!when.isEmpty()) {
                int[] leaves = {0};
                Condition c = condition(kind + ".when", strip(when, "when"), 0, leaves, b);
                p = new Simple.When(c, p);
            }
            return p;
        } catch (IllegalArgumentException e) {
            throw new Invalid(kind + ": " + e.getMessage());
        }
    }

    private static Processor dissect(Map<String, String> o, Bounds b) throws Invalid {
        known("dissect", o, Set.of("tokenizer", "field", "target_prefix", "ignore_failure", "overwrite_keys", "trim_values", "trim_chars"));
        String tok = o.get("tokenizer");
        if (tok == null || tok.isEmpty()) {
            throw new Invalid("dissect needs a tokenizer");
        }
        Dissect.Trim trim;
        String tv = o.getOrDefault("trim_values", "none").trim().toLowerCase(Locale.ROOT);
        try {
            trim = Dissect.Trim.valueOf(tv.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Invalid("dissect.trim_values '" + tv + "' is not none, left, right or all");
        }
        String chars = o.getOrDefault("trim_chars", " ");
        Dissect d = new Dissect(tok, o.getOrDefault("field", "message").trim(), o.getOrDefault("target_prefix", "dissect").trim(),
                bool("dissect.ignore_failure", o.get("ignore_failure"), false), bool("dissect.overwrite_keys", o.get("overwrite_keys"), false),
                trim, chars.isEmpty() ? " " : chars);
        count("dissect.tokenizer keys", d.keyCount(), b);
        return d;
    }

    private static Processor addFields(Map<String, String> o, Bounds b) throws Invalid {
        Map<String, String> fields = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (e.getKey().startsWith("fields.")) {
                fields.put(e.getKey().substring("fields.".length()), e.getValue());
            } else if (!e.getKey().equals("target")) {
                throw new Invalid("add_fields has no option '" + e.getKey() + "' (target, fields.<name>)");
            }
        }
        if (fields.isEmpty()) {
            throw new Invalid("add_fields needs fields.<name>");
        }
        count("add_fields.fields", fields.size(), b);
        return new Simple.AddFields(o.getOrDefault("target", "fields").trim(), fields);
    }

    private static Processor addTags(Map<String, String> o, Bounds b) throws Invalid {
        known("add_tags", o, Set.of("tags", "target"));
        List<String> tags = list(o.get("tags"));
        if (tags.isEmpty()) {
            throw new Invalid("add_tags needs tags");
        }
        count("add_tags.tags", tags.size(), b);
        String target = o.getOrDefault("target", "tags").trim();
        return new Simple.AddTags(target.isEmpty() ? "tags" : target, tags);
    }

    private static Processor dropFields(Map<String, String> o, Bounds b) throws Invalid {
        known("drop_fields", o, Set.of("fields", "ignore_missing"));
        List<String> fields = list(o.get("fields"));
        if (fields.isEmpty()) {
            throw new Invalid("drop_fields needs fields");
        }
        count("drop_fields.fields", fields.size(), b);
        for (String f : fields) {
            if (f.startsWith("/") && f.endsWith("/") && f.length() > 1) {
                throw new Invalid("drop_fields: regular expressions in fields (" + f + ") are not supported");
            }
        }
        return new Simple.DropFields(fields, bool("drop_fields.ignore_missing", o.get("ignore_missing"), false));
    }

    private static Processor rename(Map<String, String> o, Bounds b) throws Invalid {
        Map<Integer, String[]> pairs = new TreeMap<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            String k = e.getKey();
            if (k.equals("ignore_missing") || k.equals("fail_on_error")) {
                continue;
            }
            String[] parts = k.split("\\.", -1);
            if (parts.length != 3 || !parts[0].equals("fields") || !number(parts[1]) || !(parts[2].equals("from") || parts[2].equals("to"))) {
                throw new Invalid("rename has no option '" + k + "' (fields.<n>.from, fields.<n>.to, ignore_missing, fail_on_error)");
            }
            int n = Integer.parseInt(parts[1]);
            pairs.computeIfAbsent(n, x -> new String[2])[parts[2].equals("from") ? 0 : 1] = e.getValue().trim();
            count("rename.fields", pairs.size(), b);
        }
        if (pairs.isEmpty()) {
            throw new Invalid("rename needs fields.<n>.from and fields.<n>.to");
        }
        List<Simple.Pair> list = new ArrayList<>();
        for (Map.Entry<Integer, String[]> p : pairs.entrySet()) {
            if (p.getValue()[0] == null || p.getValue()[1] == null) {
                throw new Invalid("rename.fields." + p.getKey() + " needs both from and to");
            }
            list.add(new Simple.Pair(p.getValue()[0], p.getValue()[1]));
        }
        return new Simple.Rename(list, bool("rename.ignore_missing", o.get("ignore_missing"), false),
                bool("rename.fail_on_error", o.get("fail_on_error"), true));
    }

    /** A condition from options relative to it ({@code equals.stream}, {@code and.0.contains.message}, ...). */
    private static Condition condition(String at, Map<String, String> o, int depth, int[] leaves, Bounds b) throws Invalid {
        if (depth > MAX_DEPTH) {
            throw new Invalid(at + " nests conditions deeper than " + MAX_DEPTH);
        }
        if (o.isEmpty()) {
            throw new Invalid(at + " is empty");
        }
        Set<String> kinds = new java.util.TreeSet<>();
        for (String k : o.keySet()) {
            int dot = k.indexOf('.');
            kinds.add(dot < 0 ? k : k.substring(0, dot));
        }
        if (kinds.size() != 1) {
            throw new Invalid(at + " has " + kinds + ": one condition per level (join them with and/or)");
        }
        String kind = kinds.iterator().next();
        Map<String, String> rest = strip(o, kind);
        switch (kind) {
            case "equals", "contains", "regexp" -> {
                List<Condition> all = new ArrayList<>();
                for (Map.Entry<String, String> e : rest.entrySet()) {
                    if (e.getKey().isEmpty()) {
                        throw new Invalid(at + "." + kind + " needs a field: " + kind + ".<field>");
                    }
                    Fields.path(e.getKey());
                    leaves[0]++;
                    all.add(switch (kind) {
                        case "equals" -> new Condition.Equals(e.getKey(), e.getValue());
                        case "contains" -> new Condition.Contains(e.getKey(), e.getValue());
                        default -> new Condition.Regexp(e.getKey(), regex(at + ".regexp." + e.getKey(), e.getValue(), b));
                    });
                }
                count(at + " conditions", leaves[0], b);
                return all.size() == 1 ? all.get(0) : new Condition.And(all);
            }
            case "has_fields" -> {
                if (!rest.containsKey("") || rest.size() != 1) {
                    throw new Invalid(at + ".has_fields takes a list of fields");
                }
                List<String> fields = list(rest.get(""));
                if (fields.isEmpty()) {
                    throw new Invalid(at + ".has_fields is empty");
                }
                fields.forEach(Fields::path);
                leaves[0] += fields.size();
                count(at + " conditions", leaves[0], b);
                return new Condition.HasFields(fields);
            }
            case "and", "or" -> {
                Map<Integer, Map<String, String>> items = new TreeMap<>();
                for (Map.Entry<String, String> e : rest.entrySet()) {
                    int dot = e.getKey().indexOf('.');
                    String n = dot < 0 ? e.getKey() : e.getKey().substring(0, dot);
                    if (!number(n) || dot < 0) {
                        throw new Invalid(at + "." + kind + " takes numbered conditions: " + kind + ".<n>.<condition>");
                    }
                    items.computeIfAbsent(Integer.parseInt(n), x -> new TreeMap<>()).put(e.getKey().substring(dot + 1), e.getValue());
                    count(at + " conditions", items.size() + leaves[0], b);
                }
                List<Condition> cs = new ArrayList<>();
                for (Map.Entry<Integer, Map<String, String>> item : items.entrySet()) {
                    cs.add(condition(at + "." + kind + "." + item.getKey(), item.getValue(), depth + 1, leaves, b));
                }
                return kind.equals("and") ? new Condition.And(cs) : new Condition.Or(cs);
            }
            case "not" -> {
                return new Condition.Not(condition(at + ".not", rest, depth + 1, leaves, b));
            }
            default -> throw new Invalid(at + "." + kind + " is not equals, contains, regexp, has_fields, and, or or not");
        }
    }

    static LinePattern regex(String key, String value, Bounds b) throws Invalid {
        try {
            return Regexes.compile(value, b.regexMaxLength());
        } catch (Regexes.Invalid e) {
            throw new Invalid(key + " is refused: " + e.getMessage());
        }
    }

    /** The options under {@code head.}, with that prefix removed; the option {@code head} itself under "". */
    private static Map<String, String> strip(Map<String, String> o, String head) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (e.getKey().equals(head)) {
                out.put("", e.getValue());
            } else if (e.getKey().startsWith(head + ".")) {
                out.put(e.getKey().substring(head.length() + 1), e.getValue());
            }
        }
        return out;
    }

    static void known(String kind, Map<String, String> o, Set<String> allowed) throws Invalid {
        for (String k : o.keySet()) {
            if (!allowed.contains(k)) {
                throw new Invalid(kind + " has no option '" + k + "'" + (allowed.isEmpty() ? " (only when)" : " " + new java.util.TreeSet<>(allowed)));
            }
        }
    }

    static void count(String what, int n, Bounds b) throws Invalid {
        if (n > b.maxFields()) {
            throw new Invalid(what + ": more than limits.processor_max_fields (" + b.maxFields() + ")");
        }
    }

    /** A whole number of at most 9 digits (a processor's or a condition's position). */
    public static boolean number(String s) {
        if (s.isEmpty() || s.length() > 9) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    static boolean bool(String key, String v, boolean fallback) throws Invalid {
        if (v == null) {
            return fallback;
        }
        Boolean b = Booleans.parse(v);
        if (b == null) {
            throw new Invalid(key + " '" + v + "' is not true or false");
        }
        return b;
    }

    /** A list as a label gives it: {@code a, b} or {@code [a, "b"]}; a quoted item keeps its commas; items trimmed, quotes removed, empty ones dropped. */
    static List<String> list(String v) {
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        String s = v.trim();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote == 0 && (c == '"' || c == '\'') && cur.toString().isBlank()) {
                quote = c;          // a quoted item: its commas are its own ('2006-01-02 15:04:05,000')
            } else if (c == quote) {
                quote = 0;
            } else if (c == ',' && quote == 0) {
                parts.add(cur.toString());
                cur.setLength(0);
                continue;
            }
            cur.append(c);
        }
        parts.add(cur.toString());
        for (String part : parts) {
            String p = part.trim();
            if (p.length() >= 2 && (p.startsWith("\"") && p.endsWith("\"") || p.startsWith("'") && p.endsWith("'"))) {
                p = p.substring(1, p.length() - 1);
            }
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }
}
