package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.Durations;
import io.logferry.event.ContainerInfo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Decides from the config and a container's labels whether it is shipped and how. Pure: the
 * same container and config always give the same answer, and a bad label value never throws;
 * it falls back to the default for that setting and is reported in {@link Decision#warnings()}.
 * The {@code logferry.*} labels win over the Filebeat hints ({@code co.elastic.logs/*}).
 */
public final class Selector {
    public static final String PREFIX = "logferry.";
    public static final String HINT = "co.elastic.logs/";

    /**
     * Java stack traces: the frames, "... n more" lines, "Caused by:" and "Suppressed:" (indented
     * when nested in a suppressed exception) belong to the line before.
     */
    static final LinePattern JAVA = LinePattern.builtin("^(\\s+at\\s|\\s*\\.\\.\\.|\\s*Caused by:|\\s*Suppressed:)");
    /**
     * Python tracebacks: indented lines, the exception line that ends the traceback, and the empty
     * lines and "During handling ..." lines between chained tracebacks.
     */
    static final LinePattern PYTHON = LinePattern.builtin("^(\\s*$|\\s+|Traceback \\(most recent call last\\):|[A-Za-z_][\\w.]*(Error|Exception|Exit|Interrupt|Warning)\\b.*|During handling of the above exception|The above exception was the direct cause)");

    private final Config.Selection selection;
    private final Config.ContainerDefaults defaults;
    private final Config.Limits limits;
    private final String selfId;

    public Selector(Config config, String selfId) {
        this.selection = config.selection();
        this.defaults = config.defaults();
        this.limits = config.limits();
        this.selfId = selfId == null ? "" : selfId;
    }

    /** The outcome for one container: settings when it is shipped, and the label problems found. */
    public record Decision(Optional<ContainerSettings> settings, String reason, List<String> warnings) {
        public boolean selected() {
            return settings.isPresent();
        }
    }

    public Decision decide(ContainerInfo c) {
        List<String> warnings = new ArrayList<>();
        Map<String, String> labels = c.labels();
        if (selection.excludeSelf() && !selfId.isEmpty() && (c.id().startsWith(selfId) || selfId.startsWith(c.id()))) {
            return new Decision(Optional.empty(), "the agent's own container (selection.exclude_self)", warnings);
        }
        Boolean enable = bool(labels, PREFIX + "enable", warnings);
        if (enable == null) {
            enable = bool(labels, HINT + "enabled", warnings);
        }
        boolean optIn = selection.mode() == Config.SelectionMode.OPT_IN;
        if (optIn && !Boolean.TRUE.equals(enable)) {
            return new Decision(Optional.empty(), "selection.mode is opt-in and logferry.enable is not true", warnings);
        }
        if (!optIn && Boolean.FALSE.equals(enable)) {
            return new Decision(Optional.empty(), "logferry.enable=false", warnings);
        }
        for (String sel : selection.includeLabels()) {
            if (!matches(labels, sel)) {
                return new Decision(Optional.empty(), "selection.include_labels '" + sel + "' does not match", warnings);
            }
        }
        for (String sel : selection.excludeLabels()) {
            if (matches(labels, sel)) {
                return new Decision(Optional.empty(), "selection.exclude_labels '" + sel + "' matches", warnings);
            }
        }
        return new Decision(Optional.of(settings(labels, warnings)), "selected", warnings);
    }

    static boolean matches(Map<String, String> labels, String selector) {
        int eq = selector.indexOf('=');
        if (eq < 0) {
            return labels.containsKey(selector.trim());
        }
        String value = labels.get(selector.substring(0, eq).trim());
        return value != null && value.equals(selector.substring(eq + 1).trim());
    }

    private ContainerSettings settings(Map<String, String> labels, List<String> warnings) {
        String dataset = sanitise(labels.getOrDefault(PREFIX + "dataset", defaults.dataset()), PREFIX + "dataset", defaults.dataset(), warnings);
        String namespace = sanitise(labels.getOrDefault(PREFIX + "namespace", defaults.namespace()), PREFIX + "namespace", defaults.namespace(), warnings);

        Config.Streams streams = defaults.streams();
        String s = labels.get(PREFIX + "streams");
        if (s != null) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "all" -> streams = Config.Streams.ALL;
                case "stdout" -> streams = Config.Streams.STDOUT;
                case "stderr" -> streams = Config.Streams.STDERR;
                default -> warnings.add("label " + PREFIX + "streams='" + s + "' is not all, stdout or stderr; using " + streams.name().toLowerCase(Locale.ROOT));
            }
        }
        Config.StartPosition start = defaults.startPosition();
        String sp = labels.get(PREFIX + "start_position");
        if (sp != null) {
            switch (sp.trim().toLowerCase(Locale.ROOT)) {
                case "beginning" -> start = Config.StartPosition.BEGINNING;
                case "end" -> start = Config.StartPosition.END;
                default -> warnings.add("label " + PREFIX + "start_position='" + sp + "' is not beginning or end; using " + start.name().toLowerCase(Locale.ROOT));
            }
        }

        boolean json = defaults.json();
        String messageKey = defaults.jsonMessageKey();
        boolean hintJson = labels.keySet().stream().anyMatch(k -> k.startsWith(HINT + "json."));
        if (hintJson) {
            json = true;
            messageKey = labels.getOrDefault(HINT + "json.message_key", messageKey);
        }
        Boolean lj = bool(labels, PREFIX + "json", warnings);
        if (lj != null) {
            json = lj;
        }
        messageKey = labels.getOrDefault(PREFIX + "json.message_key", messageKey).trim();

        int maxBytes = defaults.maxBytes();
        String mb = labels.get(PREFIX + "max_bytes");
        if (mb != null) {
            try {
                maxBytes = Integer.parseInt(mb.trim());
                if (maxBytes <= 0) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                maxBytes = defaults.maxBytes();
                warnings.add("label " + PREFIX + "max_bytes='" + mb + "' is not a positive whole number; using " + maxBytes);
            }
        }

        List<LinePattern> include = patterns(labels, "include_lines", defaults.includeLines(), warnings);
        List<LinePattern> exclude = patterns(labels, "exclude_lines", defaults.excludeLines(), warnings);

        Map<String, String> fields = new LinkedHashMap<>();
        labels.forEach((k, v) -> {
            if (k.startsWith(PREFIX + "fields.") && k.length() > (PREFIX + "fields.").length()) {
                fields.put(k.substring((PREFIX + "fields.").length()).replace('.', '_'), v);
            }
        });

        return new ContainerSettings(dataset, namespace, streams, start, multiline(labels, warnings), json,
                messageKey, maxBytes, include, exclude, fields);
    }

    private ContainerSettings.MultilineRule multiline(Map<String, String> labels, List<String> warnings) {
        Config.Multiline d = defaults.multiline();
        ContainerSettings.MultilineRule fallback = rule(d.type(), d.pattern(), d.negate(), d.match(), d.maxLines(), d.timeout());
        String type = d.type();
        String pattern = d.pattern();
        String patternKey = "defaults.multiline.pattern";
        boolean negate = d.negate();
        String match = d.match();
        // Filebeat hints first, then our labels over them
        if (labels.containsKey(HINT + "multiline.pattern")) {
            type = "custom";
            pattern = labels.get(HINT + "multiline.pattern");
            patternKey = HINT + "multiline.pattern";
            negate = false;
            match = "after";
        }
        String t = labels.get(PREFIX + "multiline");
        if (t != null) {
            String v = t.trim().toLowerCase(Locale.ROOT);
            if (List.of("none", "java", "python", "custom").contains(v)) {
                type = v;
            } else {
                warnings.add("label " + PREFIX + "multiline='" + t + "' is not none, java, python or custom; using " + type);
            }
        }
        if (labels.containsKey(PREFIX + "multiline.pattern")) {
            pattern = labels.get(PREFIX + "multiline.pattern");
            patternKey = PREFIX + "multiline.pattern";
            if (t == null) {
                type = "custom";
            }
        }
        Boolean hn = bool(labels, HINT + "multiline.negate", warnings);
        if (hn != null) {
            negate = hn;
        }
        Boolean ln = bool(labels, PREFIX + "multiline.negate", warnings);
        if (ln != null) {
            negate = ln;
        }
        for (String key : List.of(HINT + "multiline.match", PREFIX + "multiline.match")) {
            String m = labels.get(key);
            if (m != null) {
                if (m.trim().equalsIgnoreCase("after") || m.trim().equalsIgnoreCase("before")) {
                    match = m.trim().toLowerCase(Locale.ROOT);
                } else {
                    warnings.add("label " + key + "='" + m + "' is not after or before; using " + match);
                }
            }
        }
        int maxLines = d.maxLines();
        for (String key : List.of(HINT + "multiline.max_lines", PREFIX + "multiline.max_lines")) {
            String m = labels.get(key);
            if (m != null) {
                try {
                    int v = Integer.parseInt(m.trim());
                    if (v <= 0) {
                        throw new NumberFormatException();
                    }
                    maxLines = v;
                } catch (NumberFormatException e) {
                    warnings.add("label " + key + "='" + m + "' is not a positive whole number; using " + maxLines);
                }
            }
        }
        Duration timeout = d.timeout();
        for (String key : List.of(HINT + "multiline.timeout", PREFIX + "multiline.timeout")) {
            String m = labels.get(key);
            if (m != null) {
                try {
                    Duration v = Durations.parse(m);
                    if (v.isZero()) {
                        throw new IllegalArgumentException("'" + m + "' is zero");
                    }
                    timeout = v;
                } catch (IllegalArgumentException e) {
                    warnings.add("label " + key + "='" + m + "': " + e.getMessage() + "; using " + timeout.toMillis() + "ms");
                }
            }
        }
        if (type.equals("custom")) {
            String why = null;
            if (pattern.isEmpty()) {
                why = "custom multiline needs a pattern";
            } else {
                try {
                    Regexes.compile(pattern, limits.regexMaxLength());
                } catch (Regexes.Invalid e) {
                    why = e.getMessage();
                }
            }
            if (why != null) {
                String key = t != null && pattern.isEmpty() ? PREFIX + "multiline" : patternKey;
                String value = key.equals(PREFIX + "multiline") ? t : pattern;
                warnings.add("label " + key + "='" + value + "': " + why + "; using the configured multiline ("
                        + fallback.type() + ")");
                return fallback;
            }
        }
        return rule(type, pattern, negate, match, maxLines, timeout);
    }

    /** A rule from values already checked: java and python fix their own pattern, negate and match. */
    private static ContainerSettings.MultilineRule rule(String type, String pattern, boolean negate, String match,
                                                        int maxLines, Duration timeout) {
        return switch (type) {
            case "java" -> new ContainerSettings.MultilineRule("java", JAVA, false, true, maxLines, timeout);
            case "python" -> new ContainerSettings.MultilineRule("python", PYTHON, false, true, maxLines, timeout);
            case "custom" -> new ContainerSettings.MultilineRule("custom", Regexes.compile(pattern, Integer.MAX_VALUE), negate, match.equals("after"),
                    maxLines, timeout);
            default -> new ContainerSettings.MultilineRule("none", null, negate, match.equals("after"), maxLines, timeout);
        };
    }

    private List<LinePattern> patterns(Map<String, String> labels, String name, List<String> fallback, List<String> warnings) {
        String value = labels.get(PREFIX + name);
        String key = PREFIX + name;
        if (value == null) {
            value = labels.get(HINT + name);
            key = HINT + name;
        }
        List<LinePattern> out = new ArrayList<>();
        if (value == null) {
            fallback.forEach(p -> out.add(Regexes.compile(p, Integer.MAX_VALUE)));     // checked by the config
            return out;
        }
        List<String> parts = splitRegexes(value);
        String why = parts.size() > limits.regexMaxCount()
                ? "has " + parts.size() + " regexes, more than limits.regex_max_count (" + limits.regexMaxCount() + ")" : null;
        for (int i = 0; why == null && i < parts.size(); i++) {
            try {
                out.add(Regexes.compile(parts.get(i), limits.regexMaxLength()));
            } catch (Regexes.Invalid e) {
                why = "has a regex that is refused: '" + parts.get(i) + "' " + e.getMessage();
            }
        }
        if (why != null) {
            warnings.add("label " + key + "='" + value + "' " + why + "; using the default " + fallback);
            out.clear();
            fallback.forEach(p -> out.add(Regexes.compile(p, Integer.MAX_VALUE)));
        }
        return out;
    }

    /**
     * Splits a comma separated list of regexes at the commas that separate them: not at an
     * escaped comma ({@code \,}), nor inside a character class or a quantifier ({@code [,;]},
     * {@code \d{1,3}}). Parts are trimmed; empty parts are dropped.
     */
    static List<String> splitRegexes(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        boolean inClass = false;
        boolean inBraces = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                part.append(c).append(value.charAt(++i));
                continue;
            }
            if (c == ',' && !inClass && !inBraces) {
                if (!part.toString().isBlank()) {
                    out.add(part.toString().trim());
                }
                part.setLength(0);
                continue;
            }
            if (c == '[') {
                inClass = true;
            } else if (c == ']') {
                inClass = false;
            } else if (c == '{' && !inClass) {
                inBraces = true;
            } else if (c == '}') {
                inBraces = false;
            }
            part.append(c);
        }
        if (!part.toString().isBlank()) {
            out.add(part.toString().trim());
        }
        return out;
    }

    private static Boolean bool(Map<String, String> labels, String key, List<String> warnings) {
        String v = labels.get(key);
        if (v == null) {
            return null;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> {
                warnings.add("label " + key + "='" + v + "' is not true or false; using the default");
                yield null;
            }
        };
    }

    /** Elasticsearch's data stream name rules: lower case, none of \\ / * ? " < > | , # : space -, at most 100 bytes. */
    static String sanitise(String value, String key, String fallback, List<String> warnings) {
        String v = value.trim().toLowerCase(Locale.ROOT).replaceAll("[\\\\/*?\"<>|,#:\\s-]", "_");
        while (v.startsWith("_") || v.startsWith("+") || v.startsWith(".")) {
            v = v.substring(1);
        }
        v = truncateUtf8(v, 100);
        if (v.isEmpty()) {
            warnings.add("label " + key + "='" + value + "' leaves nothing valid for a data stream name; using " + fallback);
            return fallback;
        }
        return v;
    }

    /** The longest prefix of at most {@code maxBytes} UTF-8 bytes, never splitting a character. */
    private static String truncateUtf8(String s, int maxBytes) {
        int bytes = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int w = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + w > maxBytes) {
                return s.substring(0, i);
            }
            bytes += w;
            i += Character.charCount(cp);
        }
        return s;
    }
}
