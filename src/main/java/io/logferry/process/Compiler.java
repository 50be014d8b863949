package io.logferry.process;

import io.logferry.model.LinePattern;
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
    public static final List<String> KINDS = List.of("add_fields", "add_tags", "dissect", "drop_event", "drop_fields", "rename");

    /** A processor refused, with why (one line, naming the option). */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message);
        }
    }

    /**
     * @param maxValueBytes   {@code limits.processor_max_value_bytes}: one option value (a tokenizer, a field value)
     * @param maxFields       {@code limits.processor_max_fields}: keys, fields, tags or conditions of one processor
     * @param regexMaxLength  {@code limits.regex_max_length}: a {@code regexp} condition
     */
    public record Bounds(int maxValueBytes, int maxFields, int regexMaxLength) { }

    private Compiler() {
    }

    /** The chain of processors compiled already. */
    public static Chain chain(List<Object> processors) {
        List<Processor> ps = new ArrayList<>();
        processors.forEach(p -> ps.add((Processor) p));
        return new Chain(ps);
    }

    /** One processor of {@code kind} from {@code options}; an opaque object for {@link #chain}. */
    public static Object processor(String kind, Map<String, String> options, Bounds b) throws Invalid {
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
                default -> throw new Invalid("processor '" + kind + "' is not one of " + KINDS);
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

    private static LinePattern regex(String key, String value, Bounds b) throws Invalid {
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

    private static void known(String kind, Map<String, String> o, Set<String> allowed) throws Invalid {
        for (String k : o.keySet()) {
            if (!allowed.contains(k)) {
                throw new Invalid(kind + " has no option '" + k + "'" + (allowed.isEmpty() ? " (only when)" : " " + new java.util.TreeSet<>(allowed)));
            }
        }
    }

    private static void count(String what, int n, Bounds b) throws Invalid {
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

    private static boolean bool(String key, String v, boolean fallback) throws Invalid {
        if (v == null) {
            return fallback;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new Invalid(key + " '" + v + "' is not true or false");
        };
    }

    /** A list as a label gives it: {@code a, b} or {@code [a, "b"]}; items trimmed, quotes removed, empty ones dropped. */
    static List<String> list(String v) {
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        String s = v.trim();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        for (String part : s.split(",", -1)) {
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
