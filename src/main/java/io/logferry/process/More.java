package io.logferry.process;

import io.logferry.model.LinePattern;
import io.logferry.model.Utf8;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Filebeat's other content processors that need no outside service, with Filebeat's options
 * (each one's page under https://www.elastic.co/guide/en/beats/filebeat/current/, named in its
 * comment): {@code add_labels}, {@code copy_fields}, {@code truncate_fields}, {@code urldecode},
 * {@code decode_base64_field}, {@code convert}, {@code replace}, {@code include_fields},
 * {@code append}, {@code decode_duration}, {@code move_fields}. Pure, bounded: what they add is
 * bounded by their options ({@code limits.processor_*}) and the event's size.
 */
final class More {
    private More() {
    }

    static Processor compile(String kind, Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        return switch (kind) {
            case "add_labels" -> addLabels(o, b);
            case "copy_fields" -> copyFields(o, b);
            case "truncate_fields" -> truncate(o, b);
            case "urldecode" -> urldecode(o, b);
            case "decode_base64_field" -> base64(o);
            case "convert" -> convert(o, b);
            case "replace" -> replace(o, b);
            case "include_fields" -> include(o, b);
            case "append" -> append(o, b);
            case "decode_duration" -> duration(o);
            case "move_fields" -> moveFields(o, b);
            case "decode_csv_fields" -> csv(o, b);
            case "extract_array" -> extractArray(o, b);
            case "fingerprint" -> Fingerprint.compile(o, b);
            default -> throw new Compiler.Invalid("processor '" + kind + "' is not one of " + Compiler.KINDS);
        };
    }

    /** {@code fields.<n>.<key>} options in the order of {@code <n>}, each a map of its keys; the rest of {@code o} checked against {@code flags}. */
    static List<Map<String, String>> numbered(String kind, Map<String, String> o, String head, Set<String> keys, Set<String> flags,
                                              Compiler.Bounds b) throws Compiler.Invalid {
        Map<Integer, Map<String, String>> items = new TreeMap<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (flags.contains(e.getKey())) {
                continue;
            }
            String[] parts = e.getKey().split("\\.", -1);
            if (parts.length != 3 || !parts[0].equals(head) || !Compiler.number(parts[1]) || !keys.contains(parts[2])) {
                throw new Compiler.Invalid(kind + " has no option '" + e.getKey() + "' (" + head + ".<n>." + keys + ", " + flags + ")");
            }
            items.computeIfAbsent(Integer.parseInt(parts[1]), x -> new TreeMap<>()).put(parts[2], e.getValue().trim());
            Compiler.count(kind + "." + head, items.size(), b);
        }
        if (items.isEmpty()) {
            throw new Compiler.Invalid(kind + " needs " + head + ".<n>." + keys);
        }
        return new ArrayList<>(items.values());
    }

    private static String need(String kind, Map<String, String> item, String key) throws Compiler.Invalid {
        String v = item.get(key);
        if (v == null || v.isEmpty()) {
            throw new Compiler.Invalid(kind + " needs " + key + " in each of its fields");
        }
        Fields.path(v);
        return v;
    }

    // ---- add_labels (add-labels.html): labels.<name> under labels ----

    private static Processor addLabels(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Map<String, String> labels = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (!e.getKey().startsWith("labels.")) {
                throw new Compiler.Invalid("add_labels has no option '" + e.getKey() + "' (labels.<name>)");
            }
            labels.put(e.getKey().substring("labels.".length()), e.getValue());
        }
        if (labels.isEmpty()) {
            throw new Compiler.Invalid("add_labels needs labels.<name>");
        }
        Compiler.count("add_labels.labels", labels.size(), b);
        return new AddLabels(new Simple.AddFields("labels", labels));
    }

    /** {@code add_labels}: {@code add_fields} under {@code labels}. */
    record AddLabels(Simple.AddFields inner) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            return inner.run(event);
        }

        @Override
        public String describe() {
            return "add_labels " + inner.describe().substring("add_fields target='labels' ".length());
        }
    }

    // ---- copy_fields (copy-fields.html) ----

    private static Processor copyFields(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        List<Simple.Pair> pairs = new ArrayList<>();
        for (Map<String, String> item : numbered("copy_fields", o, "fields", Set.of("from", "to"), Set.of("fail_on_error", "ignore_missing"), b)) {
            pairs.add(new Simple.Pair(need("copy_fields", item, "from"), need("copy_fields", item, "to")));
        }
        return new CopyFields(pairs, Compiler.bool("copy_fields.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("copy_fields.ignore_missing", o.get("ignore_missing"), false));
    }

    /** {@code copy_fields}: each {@code from} copied to {@code to}; a missing {@code from} or an existing {@code to} is an error. */
    record CopyFields(List<Simple.Pair> fields, boolean failOnError, boolean ignoreMissing) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            Map<String, Object> before = failOnError ? copyTop(event) : null;
            for (Simple.Pair p : fields) {
                String[] from = Fields.path(p.from());
                String[] to = Fields.path(p.to());
                boolean error;
                if (!Fields.has(event, from)) {
                    error = !ignoreMissing;
                } else if (Fields.has(event, to)) {
                    error = true;
                } else {
                    Fields.put(event, to, deepCopy(Fields.get(event, from)), true);
                    continue;
                }
                if (error && failOnError) {
                    restore(event, before);
                    return Outcome.STOP;
                }
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "copy_fields fields=" + pairs(fields) + (failOnError ? "" : " fail_on_error=false") + (ignoreMissing ? " ignore_missing=true" : "");
        }
    }

    // ---- truncate_fields (truncate-fields.html) ----

    private static Processor truncate(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("truncate_fields", o, Set.of("fields", "max_bytes", "max_characters", "fail_on_error", "ignore_missing"));
        List<String> fields = Compiler.list(o.get("fields"));
        if (fields.isEmpty()) {
            throw new Compiler.Invalid("truncate_fields needs fields");
        }
        Compiler.count("truncate_fields.fields", fields.size(), b);
        fields.forEach(Fields::path);
        if (o.containsKey("max_bytes") == o.containsKey("max_characters")) {
            throw new Compiler.Invalid("truncate_fields needs one of max_bytes and max_characters");
        }
        boolean bytes = o.containsKey("max_bytes");
        String n = o.get(bytes ? "max_bytes" : "max_characters").trim();
        if (!Compiler.number(n) || Integer.parseInt(n) < 1) {
            throw new Compiler.Invalid("truncate_fields." + (bytes ? "max_bytes" : "max_characters") + " '" + n + "' is not a positive whole number");
        }
        return new Truncate(fields, Integer.parseInt(n), bytes, Compiler.bool("truncate_fields.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("truncate_fields.ignore_missing", o.get("ignore_missing"), false));
    }

    /** {@code truncate_fields}: texts cut at {@code max} bytes (UTF-8, never inside a character) or characters; flagged {@code log.flags: truncated}. */
    record Truncate(List<String> fields, int max, boolean bytes, boolean failOnError, boolean ignoreMissing) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            boolean cut = false;
            for (String f : fields) {
                String[] path = Fields.path(f);
                Object v = Fields.get(event, path);
                if (v == null && !Fields.has(event, path)) {
                    if (!ignoreMissing && failOnError) {
                        return Outcome.STOP;
                    }
                    continue;
                }
                if (!(v instanceof String s)) {
                    if (failOnError) {
                        return Outcome.STOP;
                    }
                    continue;
                }
                String t = bytes ? Utf8.truncate(s, max) : s.codePointCount(0, s.length()) > max ? s.substring(0, s.offsetByCodePoints(0, max)) : s;
                if (t.length() != s.length()) {
                    Fields.put(event, path, t, true);
                    cut = true;
                }
            }
            if (cut) {
                Fields.flag(event, "truncated");
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "truncate_fields fields=" + fields + (bytes ? " max_bytes=" : " max_characters=") + max;
        }
    }

    // ---- urldecode (urldecode.html), decode_base64_field (decode-base64-field.html) ----

    private static Processor urldecode(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        List<Simple.Pair> pairs = new ArrayList<>();
        for (Map<String, String> item : numbered("urldecode", o, "fields", Set.of("from", "to"), Set.of("fail_on_error", "ignore_missing"), b)) {
            String from = need("urldecode", item, "from");
            String to = item.getOrDefault("to", "");
            pairs.add(new Simple.Pair(from, to.isEmpty() ? from : to));
        }
        return new Decode("urldecode", pairs, Compiler.bool("urldecode.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("urldecode.ignore_missing", o.get("ignore_missing"), false));
    }

    private static Processor base64(Map<String, String> o) throws Compiler.Invalid {
        Compiler.known("decode_base64_field", o, Set.of("field.from", "field.to", "fail_on_error", "ignore_missing"));
        String from = o.getOrDefault("field.from", "").trim();
        if (from.isEmpty()) {
            throw new Compiler.Invalid("decode_base64_field needs field.from");
        }
        String to = o.getOrDefault("field.to", "").trim();
        return new Decode("decode_base64_field", List.of(new Simple.Pair(from, to.isEmpty() ? from : to)),
                Compiler.bool("decode_base64_field.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("decode_base64_field.ignore_missing", o.get("ignore_missing"), false));
    }

    /** {@code urldecode} and {@code decode_base64_field}: the text at {@code from} decoded into {@code to} (UTF-8; anything else is an error). */
    record Decode(String kind, List<Simple.Pair> fields, boolean failOnError, boolean ignoreMissing) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            Map<String, Object> before = failOnError ? copyTop(event) : null;
            for (Simple.Pair p : fields) {
                String[] from = Fields.path(p.from());
                Object v = Fields.get(event, from);
                String out = null;
                if (v instanceof String s) {
                    out = kind.equals("urldecode") ? url(s) : base64(s);
                } else if (v == null && !Fields.has(event, from) && ignoreMissing) {
                    continue;
                }
                if (out == null) {
                    if (failOnError) {
                        restore(event, before);
                        return Outcome.STOP;
                    }
                    continue;
                }
                Fields.put(event, Fields.path(p.to()), out, true);
            }
            return Outcome.CONTINUE;
        }

        /** Query-string decoding: {@code %XX} bytes (a run of them UTF-8) and {@code +} as a space; null when malformed. */
        static String url(String s) {
            StringBuilder out = new StringBuilder(s.length());
            byte[] run = new byte[s.length()];
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c != '%') {
                    out.append(c == '+' ? ' ' : c);
                    i++;
                    continue;
                }
                int n = 0;
                while (i < s.length() && s.charAt(i) == '%') {
                    if (i + 2 >= s.length()) {
                        return null;
                    }
                    int hi = Character.digit(s.charAt(i + 1), 16);
                    int lo = Character.digit(s.charAt(i + 2), 16);
                    if (hi < 0 || lo < 0) {
                        return null;
                    }
                    run[n++] = (byte) (hi * 16 + lo);
                    i += 3;
                }
                String text = Utf8.decodeStrict(java.util.Arrays.copyOf(run, n));
                if (text == null) {
                    return null;
                }
                out.append(text);
            }
            return out.toString();
        }

        static String base64(String s) {
            try {
                return Utf8.decodeStrict(Base64.getDecoder().decode(s.trim()));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }

        @Override
        public String describe() {
            return kind + " fields=" + pairs(fields) + (failOnError ? "" : " fail_on_error=false") + (ignoreMissing ? " ignore_missing=true" : "");
        }
    }

    // ---- convert (convert.html) ----

    private static final Set<String> TYPES = Set.of("integer", "long", "float", "double", "boolean", "string", "ip");

    private static Processor convert(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        List<String[]> items = new ArrayList<>();
        for (Map<String, String> item : numbered("convert", o, "fields", Set.of("from", "to", "type"),
                Set.of("fail_on_error", "ignore_missing", "mode", "tag"), b)) {
            String from = need("convert", item, "from");
            String to = item.getOrDefault("to", "");
            String type = item.getOrDefault("type", "").toLowerCase(Locale.ROOT);
            if (!type.isEmpty() && !TYPES.contains(type)) {
                throw new Compiler.Invalid("convert type '" + type + "' is not one of " + new java.util.TreeSet<>(TYPES));
            }
            if (!to.isEmpty()) {
                Fields.path(to);
            }
            items.add(new String[] {from, to.isEmpty() ? from : to, type});
        }
        String mode = o.getOrDefault("mode", "copy").trim().toLowerCase(Locale.ROOT);
        if (!mode.equals("copy") && !mode.equals("rename")) {
            throw new Compiler.Invalid("convert.mode '" + mode + "' is not copy or rename");
        }
        return new Convert(items, mode.equals("rename"), Compiler.bool("convert.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("convert.ignore_missing", o.get("ignore_missing"), false));
    }

    /** {@code convert}: each value converted to its {@code type} (none: copied as it is) into {@code to}; with {@code rename} the {@code from} removed. */
    record Convert(List<String[]> fields, boolean rename, boolean failOnError, boolean ignoreMissing) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            Map<String, Object> before = failOnError ? copyTop(event) : null;
            for (String[] f : fields) {
                String[] from = Fields.path(f[0]);
                if (!Fields.has(event, from)) {
                    if (ignoreMissing) {
                        continue;
                    }
                    if (failOnError) {
                        restore(event, before);
                        return Outcome.STOP;
                    }
                    continue;
                }
                Object v = convert(Fields.get(event, from), f[2]);
                if (v == null) {
                    if (failOnError) {
                        restore(event, before);
                        return Outcome.STOP;
                    }
                    continue;
                }
                if (rename && !f[0].equals(f[1])) {
                    Fields.delete(event, from);
                }
                Fields.put(event, Fields.path(f[1]), v, true);
            }
            return Outcome.CONTINUE;
        }

        static Object convert(Object v, String type) {
            if (type.isEmpty()) {
                return v;
            }
            if (v == null || v instanceof Map<?, ?> || v instanceof List<?>) {
                return null;
            }
            String s = String.valueOf(v).trim();
            try {
                return switch (type) {
                    case "integer", "long" -> {
                        if (v instanceof Double d) {
                            yield d.longValue();
                        }
                        yield s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
                    }
                    case "float", "double" -> {
                        double d = Double.parseDouble(s);
                        yield Double.isFinite(d) ? d : null;
                    }
                    case "boolean" -> switch (s.toLowerCase(Locale.ROOT)) {
                        case "1", "t", "true" -> Boolean.TRUE;
                        case "0", "f", "false" -> Boolean.FALSE;
                        default -> null;
                    };
                    case "ip" -> ip(s) ? s : null;
                    default -> String.valueOf(v);
                };
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /** An IPv4 or IPv6 address written as numbers (no name lookup). */
        private static boolean ip(String s) {
            if (s.isEmpty() || s.length() > 64 || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':' || c == '%')) {
                return false;
            }
            if (s.indexOf(':') < 0) {
                String[] parts = s.split("\\.", -1);
                if (parts.length != 4) {
                    return false;
                }
                for (String p : parts) {
                    if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
                        return false;
                    }
                }
                return true;
            }
            return ipv6(s);
        }

        /** IPv6 text: groups of 1 to 4 hex digits, eight of them or fewer with one {@code ::}; the last two may be an IPv4 address. */
        private static boolean ipv6(String s) {
            if (s.indexOf('%') >= 0) {
                s = s.substring(0, s.indexOf('%'));
            }
            int dc = s.indexOf("::");
            if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
                return false;
            }
            String[] groups = s.replace("::", ":x:").split(":", -1);
            int count = 0;
            boolean elided = false;
            for (int i = 0; i < groups.length; i++) {
                String g = groups[i];
                if (g.equals("x")) {
                    elided = true;
                } else if (g.isEmpty()) {
                    if (!((i == 0 || i == groups.length - 1) && dc >= 0)) {
                        return false;
                    }
                } else if (i == groups.length - 1 && g.indexOf('.') >= 0) {
                    if (!ip(g) || g.indexOf(':') >= 0) {
                        return false;
                    }
                    count += 2;
                } else if (g.length() > 4 || !g.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    return false;
                } else {
                    count++;
                }
            }
            return elided ? count < 8 : count == 8;
        }

        @Override
        public String describe() {
            return "convert fields=" + fields.stream().map(f -> f[0] + "->" + f[1] + (f[2].isEmpty() ? "" : ":" + f[2]))
                    .collect(Collectors.joining(",", "[", "]")) + (rename ? " mode=rename" : "") + (failOnError ? "" : " fail_on_error=false")
                    + (ignoreMissing ? " ignore_missing=true" : "");
        }
    }

    // ---- replace (replace.html) ----

    private static Processor replace(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        List<Replace.Rule> rules = new ArrayList<>();
        for (Map<String, String> item : numbered("replace", o, "fields", Set.of("field", "pattern", "replacement"),
                Set.of("fail_on_error", "ignore_missing"), b)) {
            String field = need("replace", item, "field");
            String pattern = item.get("pattern");
            if (pattern == null || pattern.isEmpty()) {
                throw new Compiler.Invalid("replace needs pattern in each of its fields");
            }
            String replacement = item.get("replacement");
            if (replacement == null) {
                throw new Compiler.Invalid("replace needs replacement in each of its fields");
            }
            rules.add(new Replace.Rule(field, Compiler.regex("replace.pattern", pattern, b), replacement));
        }
        return new Replace(rules, Compiler.bool("replace.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("replace.ignore_missing", o.get("ignore_missing"), false));
    }

    /** {@code replace}: every match of {@code pattern} (RE2) in the text replaced by {@code replacement} ({@code $1} groups); the result at most twice the text and 64 KiB more. */
    record Replace(List<Rule> rules, boolean failOnError, boolean ignoreMissing) implements Processor {
        record Rule(String field, LinePattern pattern, String replacement) {
        }

        @Override
        public Outcome run(Map<String, Object> event) {
            Map<String, Object> before = failOnError ? copyTop(event) : null;
            for (Rule r : rules) {
                String[] path = Fields.path(r.field());
                Object v = Fields.get(event, path);
                String out = null;
                if (v instanceof String s) {
                    out = r.pattern().replaceAll(s, r.replacement(), 2L * s.length() + 65536);
                } else if (v == null && !Fields.has(event, path) && ignoreMissing) {
                    continue;
                }
                if (out == null) {
                    if (failOnError) {
                        restore(event, before);
                        return Outcome.STOP;
                    }
                    continue;
                }
                Fields.put(event, path, out, true);
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "replace fields=" + rules.stream().map(r -> r.field() + ":" + Chain.quote(r.pattern().source()) + "->" + Chain.quote(r.replacement()))
                    .collect(Collectors.joining(",", "[", "]"));
        }
    }

    // ---- include_fields (include-fields.html) ----

    private static Processor include(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("include_fields", o, Set.of("fields"));
        List<String> fields = Compiler.list(o.get("fields"));
        if (fields.isEmpty()) {
            throw new Compiler.Invalid("include_fields needs fields");
        }
        Compiler.count("include_fields.fields", fields.size(), b);
        fields.forEach(Fields::path);
        return new Include(List.copyOf(fields));
    }

    /** {@code include_fields}: only the fields named are kept (with what is under them); the agent's own fields are always written. */
    record Include(List<String> fields) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            Map<String, Object> kept = new LinkedHashMap<>();
            for (String f : fields) {
                String[] path = Fields.path(f);
                if (Fields.has(event, path)) {
                    Fields.put(kept, path, Fields.get(event, path), true);
                }
            }
            Object stream = event.get("stream");
            Object ts = event.get("@timestamp");
            event.clear();
            event.putAll(kept);
            event.put("stream", stream);
            if (ts != null) {
                event.put("@timestamp", ts);
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "include_fields fields=" + fields;
        }
    }

    // ---- append (append.html) ----

    private static Processor append(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("append", o, Set.of("target_field", "fields", "values", "fail_on_error", "ignore_missing",
                "allow_duplicate", "ignore_empty_values"));
        String target = o.getOrDefault("target_field", "").trim();
        if (target.isEmpty()) {
            throw new Compiler.Invalid("append needs target_field");
        }
        Fields.path(target);
        List<String> fields = Compiler.list(o.get("fields"));
        List<String> values = Compiler.list(o.get("values"));
        if (fields.isEmpty() && values.isEmpty()) {
            throw new Compiler.Invalid("append needs fields or values");
        }
        Compiler.count("append.fields and values", fields.size() + values.size(), b);
        fields.forEach(Fields::path);
        return new Append(target, fields, values, Compiler.bool("append.ignore_missing", o.get("ignore_missing"), false),
                Compiler.bool("append.allow_duplicate", o.get("allow_duplicate"), true),
                Compiler.bool("append.ignore_empty_values", o.get("ignore_empty_values"), false),
                Compiler.bool("append.fail_on_error", o.get("fail_on_error"), true));
    }

    /** {@code append}: the values of {@code fields} and the constant {@code values} appended to the list at {@code target_field}. */
    record Append(String target, List<String> fields, List<String> values, boolean ignoreMissing, boolean allowDuplicate,
                  boolean ignoreEmpty, boolean failOnError) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            List<Object> add = new ArrayList<>();
            for (String f : fields) {
                String[] path = Fields.path(f);
                if (!Fields.has(event, path)) {
                    if (!ignoreMissing && failOnError) {
                        return Outcome.STOP;
                    }
                    continue;
                }
                Object v = Fields.get(event, path);
                if (v instanceof List<?> l) {
                    add.addAll(l);
                } else {
                    add.add(v);
                }
            }
            add.addAll(values);
            String[] path = Fields.path(target);
            Object at = Fields.get(event, path);
            List<Object> list = new ArrayList<>();
            if (at instanceof List<?> l) {
                list.addAll(l);
            } else if (at != null) {
                list.add(at);
            }
            for (Object v : add) {
                if (ignoreEmpty && (v == null || v instanceof String s && s.isEmpty())) {
                    continue;
                }
                if (allowDuplicate || !list.contains(v)) {
                    list.add(v);
                }
            }
            Fields.put(event, path, list, true);
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "append target_field=" + target + (fields.isEmpty() ? "" : " fields=" + fields) + (values.isEmpty() ? "" : " values=" + values);
        }
    }

    // ---- decode_duration (decode-duration.html) ----

    private static Processor duration(Map<String, String> o) throws Compiler.Invalid {
        Compiler.known("decode_duration", o, Set.of("field", "format"));
        String field = o.getOrDefault("field", "").trim();
        if (field.isEmpty()) {
            throw new Compiler.Invalid("decode_duration needs field");
        }
        Fields.path(field);
        String format = o.getOrDefault("format", "milliseconds").trim().toLowerCase(Locale.ROOT);
        long unit = switch (format) {
            case "milliseconds" -> 1_000_000L;
            case "seconds" -> 1_000_000_000L;
            case "minutes" -> 60_000_000_000L;
            case "hours" -> 3_600_000_000_000L;
            default -> throw new Compiler.Invalid("decode_duration.format '" + format + "' is not milliseconds, seconds, minutes or hours");
        };
        return new Duration(field, format, unit);
    }

    /** {@code decode_duration}: a Go duration text ({@code 1h2m3.5s}, {@code 300ms}) at {@code field} replaced by a number of {@code format} units. */
    record Duration(String field, String format, long unitNanos) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            String[] path = Fields.path(field);
            if (!(Fields.get(event, path) instanceof String s)) {
                return Outcome.STOP;
            }
            Double nanos = goDuration(s.trim());
            if (nanos == null) {
                return Outcome.STOP;
            }
            Fields.put(event, path, nanos / unitNanos, true);
            return Outcome.CONTINUE;
        }

        /** Go's {@code time.ParseDuration} grammar: a sign, then numbers with units ns, us, µs, ms, s, m, h; "0" alone. */
        static Double goDuration(String s) {
            if (s.isEmpty() || s.length() > 64) {
                return null;
            }
            int i = 0;
            double sign = 1;
            if (s.charAt(0) == '-' || s.charAt(0) == '+') {
                sign = s.charAt(0) == '-' ? -1 : 1;
                i++;
            }
            if (s.substring(i).equals("0")) {
                return 0.0;
            }
            if (i == s.length()) {
                return null;
            }
            double total = 0;
            while (i < s.length()) {
                int start = i;
                while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                    i++;
                }
                if (start == i) {
                    return null;
                }
                double n;
                try {
                    n = Double.parseDouble(s.substring(start, i));
                } catch (NumberFormatException e) {
                    return null;
                }
                int u = i;
                while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                    i++;
                }
                double unit = switch (s.substring(u, i)) {
                    case "ns" -> 1;
                    case "us", "µs", "μs" -> 1e3;
                    case "ms" -> 1e6;
                    case "s" -> 1e9;
                    case "m" -> 60e9;
                    case "h" -> 3600e9;
                    default -> -1;
                };
                if (unit < 0) {
                    return null;
                }
                total += n * unit;
            }
            return sign * total;
        }

        @Override
        public String describe() {
            return "decode_duration field=" + field + " format=" + format;
        }
    }

    // ---- move_fields (move-fields.html) ----

    private static Processor moveFields(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("move_fields", o, Set.of("from", "fields", "exclude", "to", "ignore_missing"));
        String from = o.getOrDefault("from", "").trim();
        if (!from.isEmpty()) {
            Fields.path(from);
        }
        String to = o.getOrDefault("to", "");
        List<String> fields = Compiler.list(o.get("fields"));
        List<String> exclude = Compiler.list(o.get("exclude"));
        Compiler.count("move_fields.fields and exclude", fields.size() + exclude.size(), b);
        if (to.isEmpty()) {
            throw new Compiler.Invalid("move_fields needs to");
        }
        return new Move(from, fields, exclude, to, Compiler.bool("move_fields.ignore_missing", o.get("ignore_missing"), false));
    }

    /**
     * {@code move_fields}: the fields under {@code from} (the root when empty) named in
     * {@code fields} (all but {@code exclude} when none are named) moved to {@code to} followed
     * by their name: {@code to} is a prefix ({@code my_prefix_}, or {@code app.} to nest them).
     */
    record Move(String from, List<String> fields, List<String> exclude, String to, boolean ignoreMissing) implements Processor {
        @Override
        @SuppressWarnings("unchecked")
        public Outcome run(Map<String, Object> event) {
            Object parent = from.isEmpty() ? event : Fields.get(event, Fields.path(from));
            if (!(parent instanceof Map<?, ?> pm)) {
                return ignoreMissing ? Outcome.CONTINUE : Outcome.STOP;
            }
            Map<String, Object> p = (Map<String, Object>) pm;
            List<String> names = new ArrayList<>(fields.isEmpty() ? p.keySet() : fields);
            names.removeAll(exclude);
            if (from.isEmpty()) {
                names.remove("stream");
                names.remove("@timestamp");
            }
            Map<String, Object> moved = new LinkedHashMap<>();
            for (String n : names) {
                if (!p.containsKey(n)) {
                    if (!ignoreMissing) {
                        return Outcome.STOP;
                    }
                    continue;
                }
                moved.put(n, p.remove(n));
            }
            for (Map.Entry<String, Object> m : moved.entrySet()) {
                String[] path = Fields.contentPath(to + m.getKey());
                if (path != null) {
                    Fields.put(event, path, m.getValue(), true);
                }
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "move_fields from=" + Chain.quote(from) + (fields.isEmpty() ? "" : " fields=" + fields)
                    + (exclude.isEmpty() ? "" : " exclude=" + exclude) + " to=" + Chain.quote(to);
        }
    }

    // ---- decode_csv_fields (decode-csv-fields.html) ----

    private static Processor csv(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        List<Simple.Pair> pairs = new ArrayList<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (e.getKey().startsWith("fields.")) {
                String to = e.getValue().trim();
                if (to.isEmpty()) {
                    throw new Compiler.Invalid("decode_csv_fields." + e.getKey() + " needs a target field");
                }
                pairs.add(new Simple.Pair(e.getKey().substring("fields.".length()), to));
            } else if (!Set.of("separator", "ignore_missing", "overwrite_keys", "trim_leading_space", "fail_on_error").contains(e.getKey())) {
                throw new Compiler.Invalid("decode_csv_fields has no option '" + e.getKey() + "' (fields.<from>=<to>, separator, ignore_missing, "
                        + "overwrite_keys, trim_leading_space, fail_on_error)");
            }
        }
        if (pairs.isEmpty()) {
            throw new Compiler.Invalid("decode_csv_fields needs fields.<from>=<to>");
        }
        Compiler.count("decode_csv_fields.fields", pairs.size(), b);
        String sep = o.getOrDefault("separator", ",");
        if (sep.equals("\\t")) {
            sep = "\t";
        }
        if (sep.codePointCount(0, sep.length()) != 1 || sep.equals("\"") || sep.equals("\n") || sep.equals("\r")) {
            throw new Compiler.Invalid("decode_csv_fields.separator '" + sep + "' is not one character (other than a quote or a line end)");
        }
        return new Csv(pairs, sep.charAt(0), Compiler.bool("decode_csv_fields.ignore_missing", o.get("ignore_missing"), false),
                Compiler.bool("decode_csv_fields.overwrite_keys", o.get("overwrite_keys"), false),
                Compiler.bool("decode_csv_fields.trim_leading_space", o.get("trim_leading_space"), false),
                Compiler.bool("decode_csv_fields.fail_on_error", o.get("fail_on_error"), true));
    }

    /** {@code decode_csv_fields}: the one CSV record (RFC 4180 quoting, {@code ""} a quote) in {@code from} as an array of texts at {@code to}. */
    record Csv(List<Simple.Pair> fields, char separator, boolean ignoreMissing, boolean overwrite, boolean trim, boolean failOnError)
            implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            Map<String, Object> before = failOnError ? copyTop(event) : null;
            for (Simple.Pair p : fields) {
                String[] from = Fields.path(p.from());
                Object v = Fields.get(event, from);
                List<Object> record = null;
                if (v instanceof String s) {
                    record = parse(s);
                } else if (v == null && !Fields.has(event, from) && ignoreMissing) {
                    continue;
                }
                String[] to = Fields.path(p.to());
                if (record == null || !overwrite && Fields.has(event, to)) {
                    if (failOnError) {
                        restore(event, before);
                        return Outcome.STOP;
                    }
                    continue;
                }
                Fields.put(event, to, record, true);
            }
            return Outcome.CONTINUE;
        }

        /** One record's fields, or null when the text is not one well-formed record. */
        List<Object> parse(String s) {
            List<Object> out = new ArrayList<>();
            StringBuilder f = new StringBuilder();
            int i = 0;
            int n = s.endsWith("\r\n") ? s.length() - 2 : s.endsWith("\n") ? s.length() - 1 : s.length();
            while (true) {
                if (trim) {
                    while (i < n && Character.isWhitespace(s.charAt(i)) && s.charAt(i) != separator) {
                        i++;
                    }
                }
                f.setLength(0);
                if (i < n && s.charAt(i) == '"') {
                    i++;
                    while (true) {
                        if (i >= n) {
                            return null;            // the quote is not closed
                        }
                        char c = s.charAt(i++);
                        if (c != '"') {
                            f.append(c);
                        } else if (i < n && s.charAt(i) == '"') {
                            f.append('"');
                            i++;
                        } else {
                            break;
                        }
                    }
                    if (i < n && s.charAt(i) != separator) {
                        return null;                // text after the closing quote
                    }
                } else {
                    while (i < n && s.charAt(i) != separator) {
                        char c = s.charAt(i++);
                        if (c == '"' || c == '\n') {
                            return null;            // a bare quote, or a second record
                        }
                        f.append(c);
                    }
                }
                out.add(f.toString());
                if (i >= n) {
                    return out;
                }
                i++;                                // the separator
            }
        }

        @Override
        public String describe() {
            return "decode_csv_fields fields=" + pairs(fields) + (separator == ',' ? "" : " separator=" + Chain.quote(String.valueOf(separator)))
                    + (trim ? " trim_leading_space=true" : "") + (overwrite ? " overwrite_keys=true" : "");
        }
    }

    // ---- extract_array (extract_array.html) ----

    private static Processor extractArray(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Map<String, Integer> mappings = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (e.getKey().startsWith("mappings.")) {
                String target = e.getKey().substring("mappings.".length());
                Fields.path(target);
                String idx = e.getValue().trim();
                if (!Compiler.number(idx)) {
                    throw new Compiler.Invalid("extract_array." + e.getKey() + " '" + idx + "' is not an index (0, 1, ...)");
                }
                mappings.put(target, Integer.parseInt(idx));
            } else if (!Set.of("field", "ignore_missing", "overwrite_keys", "fail_on_error", "omit_empty").contains(e.getKey())) {
                throw new Compiler.Invalid("extract_array has no option '" + e.getKey() + "' (field, mappings.<field>=<index>, ignore_missing, "
                        + "overwrite_keys, fail_on_error, omit_empty)");
            }
        }
        String field = o.getOrDefault("field", "").trim();
        if (field.isEmpty() || mappings.isEmpty()) {
            throw new Compiler.Invalid("extract_array needs field and mappings.<field>=<index>");
        }
        Fields.path(field);
        Compiler.count("extract_array.mappings", mappings.size(), b);
        return new Extract(field, mappings, Compiler.bool("extract_array.ignore_missing", o.get("ignore_missing"), false),
                Compiler.bool("extract_array.overwrite_keys", o.get("overwrite_keys"), false),
                Compiler.bool("extract_array.fail_on_error", o.get("fail_on_error"), true),
                Compiler.bool("extract_array.omit_empty", o.get("omit_empty"), false));
    }

    /** {@code extract_array}: elements of the array at {@code field} copied to fields by index; an index beyond the array is skipped. */
    record Extract(String field, Map<String, Integer> mappings, boolean ignoreMissing, boolean overwrite, boolean failOnError, boolean omitEmpty)
            implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            String[] from = Fields.path(field);
            Object v = Fields.get(event, from);
            if (!(v instanceof List<?> list)) {
                return v == null && !Fields.has(event, from) && ignoreMissing ? Outcome.CONTINUE : failOnError ? Outcome.STOP : Outcome.CONTINUE;
            }
            Map<String, Object> before = failOnError ? copyTop(event) : null;
            for (Map.Entry<String, Integer> m : mappings.entrySet()) {
                if (m.getValue() >= list.size()) {
                    continue;
                }
                Object x = list.get(m.getValue());
                if (omitEmpty && (x == null || x instanceof String s && s.isEmpty() || x instanceof List<?> l && l.isEmpty()
                        || x instanceof Map<?, ?> mm && mm.isEmpty())) {
                    continue;
                }
                String[] to = Fields.path(m.getKey());
                if (!overwrite && Fields.has(event, to)) {
                    if (failOnError) {
                        restore(event, before);
                        return Outcome.STOP;
                    }
                    continue;
                }
                Fields.put(event, to, deepCopy(x), true);
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "extract_array field=" + field + " mappings=" + mappings;
        }
    }

    // ---- helpers ----

    private static String pairs(List<Simple.Pair> ps) {
        return ps.stream().map(p -> p.from() + "->" + p.to()).collect(Collectors.joining(",", "[", "]"));
    }

    /** A copy of the event deep enough to put it back after a failed processor ({@code fail_on_error}). */
    static Map<String, Object> copyTop(Map<String, Object> event) {
        @SuppressWarnings("unchecked")
        Map<String, Object> c = (Map<String, Object>) deepCopy(event);
        return c;
    }

    static void restore(Map<String, Object> event, Map<String, Object> before) {
        event.clear();
        event.putAll(before);
    }

    /** A copy of a tree of maps and lists, without recursion. */
    @SuppressWarnings("unchecked")
    static Object deepCopy(Object v) {
        if (!(v instanceof Map<?, ?>) && !(v instanceof List<?>)) {
            return v;
        }
        Object root = v instanceof Map<?, ?> ? new LinkedHashMap<String, Object>() : new ArrayList<>();
        java.util.ArrayDeque<Object[]> todo = new java.util.ArrayDeque<>();
        todo.push(new Object[] {v, root});
        while (!todo.isEmpty()) {
            Object[] t = todo.pop();
            if (t[0] instanceof Map<?, ?> src) {
                Map<String, Object> dst = (Map<String, Object>) t[1];
                for (Map.Entry<?, ?> e : src.entrySet()) {
                    dst.put(String.valueOf(e.getKey()), child(e.getValue(), todo));
                }
            } else {
                List<Object> dst = (List<Object>) t[1];
                for (Object x : (List<?>) t[0]) {
                    dst.add(child(x, todo));
                }
            }
        }
        return root;
    }

    private static Object child(Object v, java.util.ArrayDeque<Object[]> todo) {
        if (v instanceof Map<?, ?>) {
            Map<String, Object> m = new LinkedHashMap<>();
            todo.push(new Object[] {v, m});
            return m;
        }
        if (v instanceof List<?>) {
            List<Object> l = new ArrayList<>();
            todo.push(new Object[] {v, l});
            return l;
        }
        return v;
    }
}
