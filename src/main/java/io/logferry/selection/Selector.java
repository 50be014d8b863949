package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.Durations;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerLabels;
import io.logferry.model.ContainerSettings;
import io.logferry.model.DataStream;
import io.logferry.model.Ecs;
import io.logferry.model.JsonOptions;
import io.logferry.model.LinePattern;
import io.logferry.model.MultilineMatch;
import io.logferry.model.MultilineType;
import io.logferry.model.Printable;
import io.logferry.model.ProcessorChain;
import io.logferry.model.Priority;
import io.logferry.model.Regexes;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;

import io.logferry.model.Utf8;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Decides from the config and a container's labels whether it is shipped and how. Pure: the
 * same container and config always give the same answer. Labels are untrusted input, so
 * {@link #decide} is total: no label value throws out of it. A bad value falls back to the
 * default for that setting and is reported as a {@link Refusal} in the {@link Decision}; a value
 * above one of {@code limits.*} is lowered to it (a label can lower a limit, never raise it); a
 * dataset or namespace outside {@code labels.allowed_*}, a {@code logferry*} dataset and the
 * dead-letter stream fall back to the default stream. Should parsing one setting throw anyway,
 * that setting takes its default; should anything else throw, the container gets the defaults.
 * The {@code logferry.*} labels win over the Filebeat hints ({@code co.elastic.logs/*}). A hint's
 * {@code ${data.container.*}} is expanded first ({@link HintVariables}); a module hint names the
 * datasets of an integration ({@link Modules}), through the same allowlist as {@code logferry.dataset};
 * a label or hint that names no setting is a warning with the nearest known one.
 * Immutable and thread-safe.
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
    private final Config.Labels allowed;
    private final Config.Queue queue;
    /** The largest {@code logferry.max_rate} without {@code limits.max_rate}: a billion events a second, no limit in practice. */
    static final int MAX_RATE = 1_000_000_000;
    private final String deadLetter;
    private final String selfId;
    /** The label keys {@code selection.include_labels} and {@code exclude_labels} name: never unknown labels. */
    private final java.util.Set<String> selectionKeys;
    /** The settings without any label: the last resort of {@link #decide}. */
    private final ContainerSettings fallback;

    public Selector(Config config, String selfId) {
        this.selection = config.selection();
        this.defaults = config.defaults();
        this.limits = config.limits();
        this.allowed = config.labels();
        this.queue = config.queue();
        this.deadLetter = config.elasticsearch().deadLetter();
        this.selfId = selfId == null ? "" : selfId;
        java.util.Set<String> keys = new java.util.HashSet<>();
        for (String sel : selection.includeLabels()) {
            keys.add(sel.indexOf('=') < 0 ? sel.trim() : sel.substring(0, sel.indexOf('=')).trim());
        }
        for (String sel : selection.excludeLabels()) {
            keys.add(sel.indexOf('=') < 0 ? sel.trim() : sel.substring(0, sel.indexOf('=')).trim());
        }
        this.selectionKeys = java.util.Set.copyOf(keys);
        this.fallback = settings(Map.of(), new ArrayList<>());
    }

    /**
     * A label value that was not taken as it was, and why.
     *
     * @param reason  what was refused, one of the constants of this record: the {@code reason} label
     *                of the metric {@code logferry_label_refusals_total}
     * @param message one line for the log and {@code check}, naming the label, the value (escaped,
     *                cut at 200 characters) and what is used instead
     */
    public record Refusal(String reason, String message) {
        /** A value that is not one of the accepted words or not a number (booleans, enums, counts). */
        public static final String INVALID = "invalid";
        /** A regex refused: it does not compile (RE2), or is too long, too large or too many. */
        public static final String REGEX = "regex";
        /** A duration that does not parse, is zero, or is longer than {@code Durations.MAX}. */
        public static final String DURATION = "duration";
        /** A number or duration above its ceiling in {@code limits.*}: lowered to it. */
        public static final String RANGE = "range";
        /** {@code logferry.dataset} outside {@code labels.allowed_datasets}, reserved, or empty. */
        public static final String DATASET = "dataset";
        /** {@code logferry.namespace} outside {@code labels.allowed_namespaces}, or empty. */
        public static final String NAMESPACE = "namespace";
        /** The labels name the dead-letter stream ({@code elasticsearch.dead_letter}). */
        public static final String DEAD_LETTER = "dead_letter";
        /** More distinct data streams from labels than {@code labels.max_data_streams} ({@link DataStreamBudget}). */
        public static final String DATA_STREAM_CAP = "data_stream_cap";
        /** {@code container.labels.*} cut to {@code limits.container_labels_max_*} in the documents. */
        public static final String CONTAINER_LABELS = "container_labels";
        /** {@code logferry.fields.*} cut to the same limits. */
        public static final String FIELDS = "fields";
        /** {@code logferry.pipeline} / {@code co.elastic.logs/pipeline} outside {@code labels.allowed_pipelines}, empty or unprintable. */
        public static final String PIPELINE = "pipeline";
        /** A processor's labels refused (unknown kind or option, invalid value, beyond {@code limits.processor*}): that processor left out. */
        public static final String PROCESSORS = "processors";
        /** Parsing a setting threw (a bug of ours met by a hostile value): the setting's default is used. */
        public static final String INTERNAL = "internal";
        /** A {@code logferry.*} label or {@code co.elastic.logs/*} hint that names no setting (a misspelling): ignored. */
        public static final String UNKNOWN_LABEL = "unknown_label";
        /** A {@code ${...}} in a hint's value that is not expanded ({@link HintVariables}): left as written. */
        public static final String VARIABLE = "variable";
    }

    /**
     * The outcome for one container: settings when it is shipped, and the label values refused.
     *
     * @param labelsCut container labels left out of the documents or cut short ({@link ContainerLabels})
     */
    public record Decision(Optional<ContainerSettings> settings, String reason, List<Refusal> refusals, int labelsCut) {
        public Decision {
            refusals = List.copyOf(refusals);
        }

        public boolean selected() {
            return settings.isPresent();
        }

        /** The refusals' messages. */
        public List<String> warnings() {
            return refusals.stream().map(Refusal::message).toList();
        }

        /** The same decision with other settings and one more refusal (the data-stream cap). */
        public Decision with(ContainerSettings other, Refusal refusal) {
            List<Refusal> all = new ArrayList<>(refusals);
            all.add(refusal);
            return new Decision(Optional.of(other), reason, all, labelsCut);
        }
    }

    /** The default data stream, {@code logs-<defaults.dataset>-<defaults.namespace>}: never counted against the cap. */
    public static String defaultDataStream(Config config) {
        return DataStream.logs(config.defaults().dataset(), config.defaults().namespace()).name();
    }

    public Decision decide(ContainerInfo c) {
        List<Refusal> refusals = new ArrayList<>();
        try {
            return decide(c, refusals);
        } catch (RuntimeException | StackOverflowError e) {
            // last resort: not reached by any value the fuzz test tried
            refusals.add(new Refusal(Refusal.INTERNAL, "the labels could not be read (" + e.getClass().getSimpleName()
                    + "); using the configured defaults for every setting"));
            return new Decision(Optional.of(fallback), "selected", refusals, 0);
        }
    }

    private Decision decide(ContainerInfo c, List<Refusal> warnings) {
        if (inScope(c.labels())) {
            // not for containers the config's label selection leaves out: their labels are none of this agent's business
            unknownLabels(c.labels(), selectionKeys, warnings);
        }
        HintVariables.Expanded expanded = HintVariables.expand(c, c.labels());
        expanded.warnings().forEach(w -> warnings.add(new Refusal(Refusal.VARIABLE, w)));
        Map<String, String> labels = expanded.labels();
        if (selection.excludeSelf() && !selfId.isEmpty() && (c.id().startsWith(selfId) || selfId.startsWith(c.id()))) {
            return new Decision(Optional.empty(), "the agent's own container (selection.exclude_self)", warnings, 0);
        }
        Boolean enable = bool(labels, PREFIX + "enable", warnings);
        if (enable == null) {
            enable = bool(labels, HINT + "enabled", warnings);
        }
        boolean optIn = selection.mode() == Config.SelectionMode.OPT_IN;
        if (optIn && !Boolean.TRUE.equals(enable)) {
            return new Decision(Optional.empty(), "selection.mode is opt-in and logferry.enable is not true", warnings, 0);
        }
        if (!optIn && Boolean.FALSE.equals(enable)) {
            return new Decision(Optional.empty(), "logferry.enable=false", warnings, 0);
        }
        for (String sel : selection.includeLabels()) {
            if (!matches(labels, sel)) {
                return new Decision(Optional.empty(), "selection.include_labels '" + sel + "' does not match", warnings, 0);
            }
        }
        for (String sel : selection.excludeLabels()) {
            if (matches(labels, sel)) {
                return new Decision(Optional.empty(), "selection.exclude_labels '" + sel + "' matches", warnings, 0);
            }
        }
        ContainerSettings settings = settings(labels, warnings);
        ContainerLabels.Cut cut = ContainerLabels.cap(labels, limits.containerLabelsMaxCount(), limits.containerLabelsMaxBytes());
        if (cut.any()) {
            warnings.add(new Refusal(Refusal.CONTAINER_LABELS, "container.labels in the documents: " + cut.describe(labels.size())));
        }
        return new Decision(Optional.of(settings), "selected", warnings, cut.dropped() + cut.truncated());
    }

    /**
     * The {@code logferry.*} labels logferry reads, after the prefix; {@code fields.<name>} and
     * {@code processors.<...>} besides. A label outside both is a warning naming the nearest.
     */
    static final List<String> KNOWN = List.of("enable", "dataset", "namespace", "streams", "start_position", "multiline",
            "multiline.pattern", "multiline.negate", "multiline.match", "multiline.max_lines", "multiline.timeout", "json",
            "json.message_key", "json.target", "json.keys_under_root", "json.overwrite_keys", "json.add_error_key",
            "json.expand_keys", "json.ignore_decoding_error", "service", "max_bytes", "max_rate", "priority", "include_lines", "exclude_lines",
            "pipeline");
    /** The {@code co.elastic.logs/*} hints logferry reads, after the prefix; {@code multiline.*}, {@code json.*} and {@code processors.*} besides. */
    static final List<String> KNOWN_HINTS = List.of("enabled", "module", "fileset", "fileset.all", "fileset.stdout", "fileset.stderr",
            "pipeline", "include_lines", "exclude_lines", "multiline.pattern", "multiline.negate", "multiline.match",
            "multiline.max_lines", "multiline.timeout");
    /** Filebeat's hints that logferry knows and does not apply. */
    static final List<String> UNAPPLIED_HINTS = List.of("raw");

    /**
     * A warning for each {@code logferry.*} label and {@code co.elastic.logs/*} hint that names no
     * setting, with the nearest known one ({@link io.logferry.config.ConfigLoader#nearest}, as for
     * {@code LOGFERRY_*} variables): {@code logferry.enabled=false} would otherwise ship the
     * container without a word. A key the config's label selection names is the operator's, not
     * a misspelling. At most {@link #UNKNOWN_MAX} warnings per container.
     */
    private static void unknownLabels(Map<String, String> labels, java.util.Set<String> selectionKeys, List<Refusal> warnings) {
        int n = 0;
        for (String key : new java.util.TreeSet<>(labels.keySet())) {
            String why = null;
            if (selectionKeys.contains(key)) {
                continue;       // the operator's own: selection.include_labels / exclude_labels name it
            }
            if (key.startsWith(PREFIX)) {
                String rest = key.substring(PREFIX.length());
                if (KNOWN.contains(rest) || rest.startsWith("fields.") || rest.startsWith("processors.")) {
                    continue;
                }
                String near = rest.length() > 100 ? null : io.logferry.config.ConfigLoader.nearest(rest, KNOWN);
                why = "is not a logferry label and is ignored" + (near == null ? "" : "; did you mean " + PREFIX + near + "?");
            } else if (key.startsWith(HINT)) {
                String rest = key.substring(HINT.length());
                if (KNOWN_HINTS.contains(rest) || rest.startsWith("json.") || rest.startsWith("processors.")) {
                    continue;
                }
                if (UNAPPLIED_HINTS.contains(rest)) {
                    why = "is a Filebeat hint logferry does not apply; ignored";
                } else if (rest.startsWith("multiline.")) {
                    why = "is a multiline option logferry does not apply (it applies pattern, negate, match, max_lines, timeout); ignored";
                } else {
                    String near = rest.length() > 100 ? null : io.logferry.config.ConfigLoader.nearest(rest, KNOWN_HINTS);
                    why = "is not a Filebeat hint logferry knows and is ignored" + (near == null ? "" : "; did you mean " + HINT + near + "?");
                }
            } else {
                continue;
            }
            if (++n > UNKNOWN_MAX) {
                warnings.add(new Refusal(Refusal.UNKNOWN_LABEL, "more than " + UNKNOWN_MAX + " unknown logferry.* and " + HINT
                        + "* labels; the others are not listed"));
                return;
            }
            warnings.add(new Refusal(Refusal.UNKNOWN_LABEL, "label " + Printable.quote(key, 200) + " " + why));
        }
    }

    /** Most unknown-label warnings per container: a container with a thousand misspelt labels gets a bounded list. */
    static final int UNKNOWN_MAX = 10;

    /** Whether {@code selection.include_labels} and {@code exclude_labels} let the container through. */
    private boolean inScope(Map<String, String> labels) {
        return selection.includeLabels().stream().allMatch(sel -> matches(labels, sel))
                && selection.excludeLabels().stream().noneMatch(sel -> matches(labels, sel));
    }

    static boolean matches(Map<String, String> labels, String selector) {
        int eq = selector.indexOf('=');
        if (eq < 0) {
            return labels.containsKey(selector.trim());
        }
        String value = labels.get(selector.substring(0, eq).trim());
        return value != null && value.equals(selector.substring(eq + 1).trim());
    }

    /** Every setting on its own: what throws while reading one label leaves that setting at its default. */
    private ContainerSettings settings(Map<String, String> labels, List<Refusal> warnings) {
        String[] stream = guard("logferry.dataset/namespace", warnings,
                () -> dataStream(labels, warnings), new String[] {defaults.dataset(), defaults.namespace(), null, null});
        Streams streams = guard(PREFIX + "streams", warnings, () -> {
            String s = labels.get(PREFIX + "streams");
            if (s == null) {
                return defaults.streams();
            }
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "all" -> Streams.ALL;
                case "stdout" -> Streams.STDOUT;
                case "stderr" -> Streams.STDERR;
                default -> {
                    refuse(warnings, Refusal.INVALID, PREFIX + "streams", s, "is not all, stdout or stderr", lower(defaults.streams()));
                    yield defaults.streams();
                }
            };
        }, defaults.streams());
        StartPosition start = guard(PREFIX + "start_position", warnings, () -> {
            String sp = labels.get(PREFIX + "start_position");
            if (sp == null) {
                return defaults.startPosition();
            }
            return switch (sp.trim().toLowerCase(Locale.ROOT)) {
                case "beginning" -> StartPosition.BEGINNING;
                case "end" -> StartPosition.END;
                default -> {
                    refuse(warnings, Refusal.INVALID, PREFIX + "start_position", sp, "is not beginning or end", lower(defaults.startPosition()));
                    yield defaults.startPosition();
                }
            };
        }, defaults.startPosition());

        boolean json = guard(PREFIX + "json", warnings, () -> {
            boolean j = defaults.json() || labels.keySet().stream().anyMatch(k -> k.startsWith(HINT + "json."));
            Boolean lj = bool(labels, PREFIX + "json", warnings);
            return lj != null ? lj : j;
        }, defaults.json());
        String messageKey = guard(PREFIX + "json.message_key", warnings, () -> {
            String k = labels.getOrDefault(HINT + "json.message_key", defaults.jsonMessageKey());
            return labels.getOrDefault(PREFIX + "json.message_key", k).trim();
        }, defaults.jsonMessageKey());

        int maxBytes = guard(PREFIX + "max_bytes", warnings, () -> {
            String mb = labels.get(PREFIX + "max_bytes");
            return mb == null ? defaults.maxBytes()
                    : count(PREFIX + "max_bytes", mb, defaults.maxBytes(), "limits.max_bytes", limits.maxBytes(), warnings);
        }, defaults.maxBytes());

        List<LinePattern> include = guard("include_lines", warnings,
                () -> patterns(labels, "include_lines", defaults.includeLines(), warnings), compileAll(defaults.includeLines()));
        List<LinePattern> exclude = guard("exclude_lines", warnings,
                () -> patterns(labels, "exclude_lines", defaults.excludeLines(), warnings), compileAll(defaults.excludeLines()));

        Map<String, String> fields = guard(PREFIX + "fields.*", warnings, () -> fields(labels, warnings), Map.of());
        ContainerSettings.MultilineRule multiline = guard(PREFIX + "multiline", warnings,
                () -> multiline(labels, warnings), configuredMultiline());

        String pipeline = guard(PREFIX + "pipeline", warnings, () -> pipeline(labels, warnings), configuredPipeline());
        ProcessorChain processors = guard(PREFIX + "processors", warnings, () -> processors(labels, warnings), ProcessorChain.NONE);
        String jsonTarget = guard(PREFIX + "json.target", warnings, () -> jsonTarget(labels, warnings), defaults.jsonTarget());
        JsonOptions jsonOptions = guard(PREFIX + "json.*", warnings, () -> jsonOptions(labels, warnings), JsonOptions.LOGFERRY);
        int maxRate = guard(PREFIX + "max_rate", warnings, () -> maxRate(labels, warnings), defaults.maxRate());
        Priority priority = guard(PREFIX + "priority", warnings, () -> priority(labels, warnings), defaults.priority());

        return new ContainerSettings(stream[0], stream[1], streams, start, multiline, json,
                messageKey, maxBytes, include, exclude, fields, pipeline, processors, jsonTarget, maxRate, priority,
                queue.weight(priority), limits.fieldLimits(), stream[2], stream[3], jsonOptions);
    }

    /** Longest pipeline name a label may give, in UTF-8 bytes. */
    static final int PIPELINE_MAX_BYTES = 512;

    private String configuredPipeline() {
        return defaults.pipeline().isEmpty() ? null : defaults.pipeline();
    }

    /**
     * {@code logferry.pipeline}, else {@code co.elastic.logs/pipeline}, else {@code defaults.pipeline}:
     * a label's pipeline must be in {@code labels.allowed_pipelines}, printable, at most
     * {@value #PIPELINE_MAX_BYTES} bytes; a refused label leaves the choice to the next.
     */
    private String pipeline(Map<String, String> labels, List<Refusal> warnings) {
        String fallback = configuredPipeline();
        for (String key : List.of(PREFIX + "pipeline", HINT + "pipeline")) {
            String v = labels.get(key);
            if (v == null) {
                continue;
            }
            String name = v.trim();
            String why = null;
            if (name.isEmpty()) {
                why = "is empty";
            } else if (Utf8.length(name) > PIPELINE_MAX_BYTES) {
                why = "is longer than " + PIPELINE_MAX_BYTES + " bytes";
            } else if (name.chars().anyMatch(c -> Printable.unsafe((char) c) || Character.isWhitespace(c))) {
                why = "has control characters or spaces";
            } else if (!Globs.anyMatches(allowed.allowedPipelines(), name)) {
                why = "is not in labels.allowed_pipelines " + allowed.allowedPipelines();
            }
            if (why == null) {
                return name;
            }
            String next = key.startsWith(PREFIX) && labels.containsKey(HINT + "pipeline") ? "the hint " + HINT + "pipeline"
                    : fallback == null ? "no pipeline" : "defaults.pipeline " + fallback;
            refuse(warnings, Refusal.PIPELINE, key, v, why, next);
        }
        return fallback;
    }

    /**
     * The processors of {@code logferry.processors.*}, or else of {@code co.elastic.logs/processors.*}
     * (the two are not mixed), as {@link io.logferry.process.Compiler#compile} reads them. Each
     * processor refused is one warning naming it; the others run (docs/labels.md says why).
     */
    private ProcessorChain processors(Map<String, String> labels, List<Refusal> warnings) {
        boolean ours = labels.keySet().stream().anyMatch(k -> k.startsWith(PREFIX + "processors."));
        String prefix = (ours ? PREFIX : HINT) + "processors.";
        io.logferry.process.Chain chain = io.logferry.process.Compiler.compile(labels, prefix,
                new io.logferry.process.Compiler.Bounds(limits.processorMaxValueBytes(), limits.processorMaxFields(),
                        limits.regexMaxLength(), limits.processorsMaxCount(), limits.containerLabelsMaxBytes()));
        for (String r : chain.refused()) {
            warnings.add(new Refusal(Refusal.PROCESSORS, "label " + r + "; left out, the container's other processors apply"));
        }
        return chain.isEmpty() ? ProcessorChain.NONE : chain;
    }

    /** Whether the container has Filebeat's {@code co.elastic.logs/json.*} hints: then their defaults are Filebeat's. */
    private static boolean jsonHints(Map<String, String> labels) {
        return labels.keySet().stream().anyMatch(k -> k.startsWith(HINT + "json."));
    }

    /** A {@code json.<option>} boolean: {@code logferry.json.<option>}, else the hint; null when neither (or invalid: a warning). */
    private static Boolean jsonOption(Map<String, String> labels, String option, List<Refusal> warnings) {
        Boolean own = bool(labels, PREFIX + "json." + option, warnings);
        return own != null ? own : bool(labels, HINT + "json." + option, warnings);
    }

    /**
     * Filebeat's {@code json.overwrite_keys} and {@code json.add_error_key} ({@code logferry.json.<option>}
     * or the hint); {@code json.expand_keys} and {@code json.ignore_decoding_error} are checked
     * (booleans) and change nothing: dotted keys always nest, decoding errors are never logged per line.
     * With hints their defaults are Filebeat's (both false), else logferry's ({@link JsonOptions#LOGFERRY}).
     */
    private JsonOptions jsonOptions(Map<String, String> labels, List<Refusal> warnings) {
        boolean hints = jsonHints(labels);
        Boolean overwrite = jsonOption(labels, "overwrite_keys", warnings);
        Boolean errorKey = jsonOption(labels, "add_error_key", warnings);
        jsonOption(labels, "expand_keys", warnings);
        jsonOption(labels, "ignore_decoding_error", warnings);
        return new JsonOptions(overwrite != null && overwrite, errorKey != null ? errorKey : !hints);
    }

    /**
     * {@code logferry.json.target}: where non-ECS JSON fields go ({@link Ecs#validJsonTarget}); else
     * {@code json.keys_under_root} ({@code logferry.json.} or the hint): {@code false} is {@code json}, as
     * Filebeat puts them, and so is its absence when the container has {@code co.elastic.logs/json.*}
     * hints (Filebeat's default); else the default.
     */
    private String jsonTarget(Map<String, String> labels, List<Refusal> warnings) {
        String t = labels.get(PREFIX + "json.target");
        if (t == null) {
            Boolean root = jsonOption(labels, "keys_under_root", warnings);
            boolean underJson = root != null ? !root : jsonHints(labels);
            return underJson ? "json" : defaults.jsonTarget();
        }
        String v = t.trim();
        if (!Ecs.validJsonTarget(v)) {
            refuse(warnings, Refusal.INVALID, PREFIX + "json.target", t,
                    "is not empty, json, or a lower-case name that is not an ECS field set or one logferry writes",
                    "'" + defaults.jsonTarget() + "'");
            return defaults.jsonTarget();
        }
        return v;
    }

    /**
     * {@code logferry.max_rate}: a positive whole number of events a second, at most {@code limits.max_rate}
     * when that is set (above: lowered to it); else {@code defaults.max_rate}. It only slows the container's own reading.
     */
    private int maxRate(Map<String, String> labels, List<Refusal> warnings) {
        String v = labels.get(PREFIX + "max_rate");
        if (v == null) {
            return defaults.maxRate();
        }
        return limits.maxRate() > 0
                ? count(PREFIX + "max_rate", v, defaults.maxRate(), "limits.max_rate", limits.maxRate(), warnings)
                : count(PREFIX + "max_rate", v, defaults.maxRate(), "the largest rate", MAX_RATE, warnings);
    }

    /** {@code logferry.priority}: high, normal or low, at most {@code limits.max_priority} (above: lowered to it); else the default. */
    private Priority priority(Map<String, String> labels, List<Refusal> warnings) {
        String v = labels.get(PREFIX + "priority");
        if (v == null) {
            return defaults.priority();
        }
        Priority p = Priority.of(v);
        if (p == null) {
            refuse(warnings, Refusal.INVALID, PREFIX + "priority", v, "is not high, normal or low", defaults.priority().word());
            return defaults.priority();
        }
        Priority capped = p.atMost(limits.maxPriority());
        if (capped != p) {
            refuse(warnings, Refusal.RANGE, PREFIX + "priority", v, "is above limits.max_priority (" + limits.maxPriority().word() + ")",
                    capped.word());
        }
        return capped;
    }

    /**
     * The result of {@code parse}, or {@code fallback} when it throws: one hostile value costs its
     * own setting, never the container's other settings, never the caller's thread.
     */
    private static <T> T guard(String what, List<Refusal> warnings, Supplier<T> parse, T fallback) {
        try {
            return parse.get();
        } catch (RuntimeException | StackOverflowError e) {
            warnings.add(new Refusal(Refusal.INTERNAL, "label " + what + " could not be read (" + e.getClass().getSimpleName()
                    + "); using the default"));
            return fallback;
        }
    }

    private static void refuse(List<Refusal> warnings, String reason, String key, String value, String why, String using) {
        warnings.add(new Refusal(reason, "label " + Printable.escape(key) + "=" + Printable.quote(value) + " " + why + "; using " + using));
    }

    /**
     * {@code logs-<dataset>-<namespace>} from the labels, each part sanitised and checked against
     * {@code labels.allowed_*}; {@code logferry*} datasets and the dead-letter stream refused.
     */
    private String[] dataStream(Map<String, String> labels, List<Refusal> warnings) {
        String dataset = defaults.dataset();
        String namespace = defaults.namespace();
        String module = null;
        String stderrDataset = null;
        String ds = labels.get(PREFIX + "dataset");
        if (ds != null) {
            dataset = allowedPart(ds, PREFIX + "dataset", defaults.dataset(), allowed.allowedDatasets(), "labels.allowed_datasets",
                    Refusal.DATASET, warnings);
        } else if (labels.containsKey(HINT + "module")) {
            String[] route = module(labels, warnings);
            if (route != null) {
                module = route[0];
                dataset = route[1];
                stderrDataset = route[2];
            }
        } else {
            for (String f : List.of("fileset", "fileset.all", "fileset.stdout", "fileset.stderr")) {
                String v = labels.get(HINT + f);
                if (v != null) {
                    refuse(warnings, Refusal.INVALID, HINT + f, v, "is given without " + HINT + "module", "no module");
                }
            }
        }
        String ns = labels.get(PREFIX + "namespace");
        if (ns != null) {
            namespace = allowedPart(ns, PREFIX + "namespace", defaults.namespace(), allowed.allowedNamespaces(), "labels.allowed_namespaces",
                    Refusal.NAMESPACE, warnings);
        }
        String stream = DataStream.logs(dataset, namespace).name();
        boolean stderrDead = stderrDataset != null && DataStream.logs(stderrDataset, namespace).name().equalsIgnoreCase(deadLetter);
        if (stderrDead || stream.equalsIgnoreCase(deadLetter) && !(dataset.equals(defaults.dataset()) && namespace.equals(defaults.namespace()))) {
            warnings.add(new Refusal(Refusal.DEAD_LETTER, "labels " + PREFIX + "dataset/" + PREFIX + "namespace name the dead-letter stream "
                    + Printable.escape(deadLetter) + " (elasticsearch.dead_letter); using " + DataStream.logs(defaults.dataset(), defaults.namespace())));
            return new String[] {defaults.dataset(), defaults.namespace(), null, null};
        }
        return new String[] {dataset, namespace, module, stderrDataset};
    }

    /** Longest module or fileset name a hint may give. */
    static final int MODULE_MAX_LENGTH = 64;

    /**
     * {@code co.elastic.logs/module} with {@code fileset}, {@code fileset.all}, {@code fileset.stdout},
     * {@code fileset.stderr}: the module and the dataset {@code <module>.<fileset>} of each stream, or
     * null (with a warning) when the module is not a name, is unknown and no fileset is given, or a
     * stream's dataset is outside {@code labels.allowed_datasets}: then every line goes to the default dataset.
     * A stream without a fileset hint takes the other's fileset of an unknown module, else the
     * module's default for that stream ({@link Modules}); a fileset the module does not have is
     * refused (the stream's default is used), as Filebeat ignores it.
     */
    private String[] module(Map<String, String> labels, List<Refusal> warnings) {
        String raw = labels.get(HINT + "module");
        String module = raw.trim().toLowerCase(Locale.ROOT);
        String fallback = DataStream.logs(defaults.dataset(), defaults.namespace()).name();
        if (!moduleName(module)) {
            refuse(warnings, Refusal.INVALID, HINT + "module", raw, "is not a module name (a-z, 0-9, _; at most "
                    + MODULE_MAX_LENGTH + ")", fallback);
            return null;
        }
        Modules.Module known = Modules.of(module);
        String both = fileset(labels, HINT + "fileset", known, module, warnings);
        String all = fileset(labels, HINT + "fileset.all", known, module, warnings);
        both = all != null ? all : both;
        String out = fileset(labels, HINT + "fileset.stdout", known, module, warnings);
        String err = fileset(labels, HINT + "fileset.stderr", known, module, warnings);
        out = out != null ? out : both;
        err = err != null ? err : both;
        if (known == null) {
            if (out == null && err == null) {
                refuse(warnings, Refusal.INVALID, HINT + "module", raw, "is not a module logferry maps without "
                        + HINT + "fileset (docs/labels.md lists them)", fallback);
                return null;
            }
            out = out != null ? out : err;
            err = err != null ? err : out;
        } else {
            out = out != null ? out : known.stdout();
            err = err != null ? err : known.stderr();
        }
        String[] route = {module, module + "." + out, module + "." + err};
        for (int i = 1; i <= 2; i++) {
            String d = allowedPart(route[i], HINT + "module/fileset", defaults.dataset(), allowed.allowedDatasets(),
                    "labels.allowed_datasets", Refusal.DATASET, warnings);
            if (!d.equals(route[i])) {
                return null;
            }
        }
        return route;
    }

    /** A fileset hint: its value when it is a name (and the known module's), else null (absent, or refused with a warning). */
    private static String fileset(Map<String, String> labels, String key, Modules.Module known, String module, List<Refusal> warnings) {
        String raw = labels.get(key);
        if (raw == null) {
            return null;
        }
        String v = raw.trim().toLowerCase(Locale.ROOT);
        if (!moduleName(v)) {
            refuse(warnings, Refusal.INVALID, key, raw, "is not a fileset name (a-z, 0-9, _; at most " + MODULE_MAX_LENGTH + ")",
                    "the module's default");
            return null;
        }
        if (known != null && !known.filesets().contains(v)) {
            refuse(warnings, Refusal.INVALID, key, raw, "is not a fileset of module " + module + " " + known.filesets(),
                    "the module's default");
            return null;
        }
        return v;
    }

    private static boolean moduleName(String v) {
        if (v.isEmpty() || v.length() > MODULE_MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static String allowedPart(String value, String key, String fallback, List<String> globs, String globsKey, String reason,
                                      List<Refusal> warnings) {
        String v = sanitise(value, key, fallback, reason, warnings);
        if (v.equals(fallback)) {
            return v;
        }
        if (reason.equals(Refusal.DATASET) && v.startsWith("logferry")) {
            refuse(warnings, reason, key, value, "is reserved: logferry* datasets are logferry's own", fallback);
            return fallback;
        }
        if (!Globs.anyMatches(globs, v)) {
            refuse(warnings, reason, key, value, "is not in " + globsKey + " " + globs, fallback);
            return fallback;
        }
        return v;
    }

    /** {@code logferry.fields.<name>}, with the same caps as {@code container.labels.*}. */
    private Map<String, String> fields(Map<String, String> labels, List<Refusal> warnings) {
        String prefix = PREFIX + "fields.";
        Map<String, String> raw = new java.util.HashMap<>();
        labels.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                raw.put(k.substring(prefix.length()), v);
            }
        });
        ContainerLabels.Cut cut = ContainerLabels.cap(raw, limits.containerLabelsMaxCount(), limits.containerLabelsMaxBytes());
        if (cut.any()) {
            warnings.add(new Refusal(Refusal.FIELDS, "labels " + prefix + "* as labels.* in the documents: " + cut.describe(raw.size())));
        }
        return new LinkedHashMap<>(cut.kept());
    }

    /**
     * A positive whole number at most {@code ceiling}: above it, the ceiling (a label lowers a
     * limit, never raises it); not a positive whole number, {@code fallback}. Never overflows.
     */
    private static int count(String key, String value, int fallback, String ceilingKey, int ceiling, List<Refusal> warnings) {
        String v = value.trim();
        int from = v.startsWith("+") ? 1 : 0;
        boolean digits = v.length() > from;
        for (int i = from; i < v.length() && digits; i++) {
            digits = v.charAt(i) >= '0' && v.charAt(i) <= '9';
        }
        if (!digits) {
            refuse(warnings, Refusal.INVALID, key, value, "is not a positive whole number", Integer.toString(fallback));
            return fallback;
        }
        String n = v.substring(from).replaceFirst("^0+(?=.)", "");
        long parsed = n.length() > 18 ? Long.MAX_VALUE : Long.parseLong(n);
        if (parsed == 0) {
            refuse(warnings, Refusal.INVALID, key, value, "is not a positive whole number", Integer.toString(fallback));
            return fallback;
        }
        if (parsed > ceiling) {
            refuse(warnings, Refusal.RANGE, key, value, "is above " + ceilingKey + " (" + ceiling + ")", Integer.toString(ceiling));
            return ceiling;
        }
        return (int) parsed;
    }

    private ContainerSettings.MultilineRule configuredMultiline() {
        Config.Multiline d = defaults.multiline();
        return rule(d.type(), d.type() == MultilineType.CUSTOM ? Regexes.compile(d.pattern(), Integer.MAX_VALUE) : null, d.negate(), d.match(),
                d.maxLines(), d.timeout());
    }

    private static List<LinePattern> compileAll(List<String> configured) {
        List<LinePattern> out = new ArrayList<>();
        configured.forEach(p -> out.add(Regexes.compile(p, Integer.MAX_VALUE)));     // checked by the config
        return out;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** The type and pattern the labels choose, and the label the pattern came from (for a warning). */
    private record Shape(MultilineType type, String pattern, String patternKey, String typeLabel, boolean fromHint) { }

    private ContainerSettings.MultilineRule multiline(Map<String, String> labels, List<Refusal> warnings) {
        Config.Multiline d = defaults.multiline();
        Shape shape = shape(labels, warnings);
        // a Filebeat pattern hint brings Filebeat's defaults for negate and match; our labels win over the hints
        boolean negate = shape.fromHint() ? false : d.negate();
        for (String key : List.of(HINT + "multiline.negate", PREFIX + "multiline.negate")) {
            Boolean v = bool(labels, key, warnings);
            negate = v == null ? negate : v;
        }
        MultilineMatch match = shape.fromHint() ? MultilineMatch.AFTER : d.match();
        for (String key : List.of(HINT + "multiline.match", PREFIX + "multiline.match")) {
            match = match(key, labels.get(key), match, warnings);
        }
        int maxLines = d.maxLines();
        Duration timeout = d.timeout();
        for (String infix : List.of(HINT, PREFIX)) {
            String lines = labels.get(infix + "multiline.max_lines");
            if (lines != null) {
                maxLines = count(infix + "multiline.max_lines", lines, maxLines, "limits.multiline_max_lines", limits.multilineMaxLines(), warnings);
            }
            String quiet = labels.get(infix + "multiline.timeout");
            if (quiet != null) {
                timeout = duration(infix + "multiline.timeout", quiet, timeout, warnings);
            }
        }
        if (shape.type() != MultilineType.CUSTOM) {
            return rule(shape.type(), null, negate, match, maxLines, timeout);
        }
        LinePattern compiled = custom(shape, warnings);
        if (compiled == null) {
            ContainerSettings.MultilineRule fallback = configuredMultiline();
            return new ContainerSettings.MultilineRule(fallback.type(), fallback.pattern(), fallback.negate(), fallback.matchAfter(),
                    Math.min(maxLines, fallback.maxLines()), min(timeout, fallback.timeout()));
        }
        return rule(MultilineType.CUSTOM, compiled, negate, match, maxLines, timeout);
    }

    /** Filebeat's pattern hint first, then {@code logferry.multiline} and {@code logferry.multiline.pattern} over it. */
    private Shape shape(Map<String, String> labels, List<Refusal> warnings) {
        Config.Multiline d = defaults.multiline();
        MultilineType type = d.type();
        String pattern = d.pattern();
        String patternKey = "defaults.multiline.pattern";
        String hint = labels.get(HINT + "multiline.pattern");
        if (hint != null) {
            type = MultilineType.CUSTOM;
            pattern = hint;
            patternKey = HINT + "multiline.pattern";
        }
        String t = labels.get(PREFIX + "multiline");
        if (t != null) {
            MultilineType v = MultilineType.of(t.trim().toLowerCase(Locale.ROOT));
            if (v != null) {
                type = v;
            } else {
                refuse(warnings, Refusal.INVALID, PREFIX + "multiline", t, "is not none, java, python or custom", type.word());
            }
        }
        String ours = labels.get(PREFIX + "multiline.pattern");
        if (ours != null) {
            pattern = ours;
            patternKey = PREFIX + "multiline.pattern";
            type = t == null ? MultilineType.CUSTOM : type;
        }
        return new Shape(type, pattern, patternKey, t, hint != null);
    }

    private MultilineMatch match(String key, String value, MultilineMatch current, List<Refusal> warnings) {
        if (value == null) {
            return current;
        }
        MultilineMatch v = MultilineMatch.of(value.trim().toLowerCase(Locale.ROOT));
        if (v == null) {
            refuse(warnings, Refusal.INVALID, key, value, "is not after or before", current.word());
            return current;
        }
        return v;
    }

    /** The custom pattern compiled, or null (with a warning) when it is missing or refused: then the configured rule applies. */
    private LinePattern custom(Shape shape, List<Refusal> warnings) {
        String pattern = shape.pattern();
        String why;
        if (pattern.isEmpty()) {
            why = "custom multiline needs a pattern";
        } else {
            try {
                return Regexes.compile(pattern, shape.patternKey().startsWith("defaults.") ? Integer.MAX_VALUE : limits.regexMaxLength());
            } catch (Regexes.Invalid e) {
                why = "is refused: " + e.getMessage();
            }
        }
        boolean typeLabel = shape.typeLabel() != null && pattern.isEmpty();
        refuse(warnings, pattern.isEmpty() ? Refusal.INVALID : Refusal.REGEX, typeLabel ? PREFIX + "multiline" : shape.patternKey(),
                typeLabel ? shape.typeLabel() : pattern, why, "the configured multiline (" + configuredMultiline().type() + ")");
        return null;
    }

    /**
     * A duration at most {@code limits.multiline_max_timeout}: above it, the ceiling; one that does
     * not parse (bounded to 12 digits and {@code Durations.MAX}: no overflow) or is zero, {@code current}.
     */
    private Duration duration(String key, String value, Duration current, List<Refusal> warnings) {
        Duration v;
        try {
            v = Durations.parse(value);
        } catch (IllegalArgumentException e) {
            refuse(warnings, Refusal.DURATION, key, value, "is not a duration (e.g. 500ms, 2s, 1m; at most 12 digits, "
                    + Durations.MAX.toDays() + " days)", current.toMillis() + "ms");
            return current;
        }
        if (v.isZero()) {
            refuse(warnings, Refusal.DURATION, key, value, "is zero", current.toMillis() + "ms");
            return current;
        }
        Duration ceiling = limits.multilineMaxTimeout();
        if (v.compareTo(ceiling) > 0) {
            refuse(warnings, Refusal.RANGE, key, value, "is above limits.multiline_max_timeout (" + ceiling.toMillis() + "ms)",
                    ceiling.toMillis() + "ms");
            return ceiling;
        }
        return v;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** A rule from values already checked: java and python fix their own pattern, negate and match. */
    private static ContainerSettings.MultilineRule rule(MultilineType type, LinePattern pattern, boolean negate, MultilineMatch match,
                                                        int maxLines, Duration timeout) {
        boolean after = match == MultilineMatch.AFTER;
        return switch (type) {
            case JAVA -> new ContainerSettings.MultilineRule(type, JAVA, false, true, maxLines, timeout);
            case PYTHON -> new ContainerSettings.MultilineRule(type, PYTHON, false, true, maxLines, timeout);
            case CUSTOM -> new ContainerSettings.MultilineRule(type, pattern, negate, after, maxLines, timeout);
            case NONE -> new ContainerSettings.MultilineRule(type, null, negate, after, maxLines, timeout);
        };
    }

    private List<LinePattern> patterns(Map<String, String> labels, String name, List<String> fallback, List<Refusal> warnings) {
        String value = labels.get(PREFIX + name);
        String key = PREFIX + name;
        if (value == null) {
            value = labels.get(HINT + name);
            key = HINT + name;
        }
        if (value == null) {
            return compileAll(fallback);
        }
        List<String> parts = splitRegexes(value);
        List<LinePattern> out = new ArrayList<>();
        String why = parts.size() > limits.regexMaxCount()
                ? "has " + parts.size() + " regexes, more than limits.regex_max_count (" + limits.regexMaxCount() + ")" : null;
        for (int i = 0; why == null && i < parts.size(); i++) {
            try {
                out.add(Regexes.compile(parts.get(i), limits.regexMaxLength()));
            } catch (Regexes.Invalid e) {
                why = parts.size() == 1 ? "is refused: " + e.getMessage()
                        : "has a regex that is refused: " + Printable.quote(parts.get(i), 100) + " " + e.getMessage();
            }
        }
        if (why != null) {
            refuse(warnings, Refusal.REGEX, key, value, why, "the default " + fallback);
            return compileAll(fallback);
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

    private static Boolean bool(Map<String, String> labels, String key, List<Refusal> warnings) {
        String v = labels.get(key);
        if (v == null) {
            return null;
        }
        Boolean b = io.logferry.model.Booleans.parse(v);
        if (b == null) {
            refuse(warnings, Refusal.INVALID, key, v, "is not true or false", "the default");
        }
        return b;
    }

    /** Elasticsearch's data stream name rules: lower case, none of \\ / * ? " < > | , # : space -, at most 100 bytes. */
    static String sanitise(String value, String key, String fallback, String reason, List<Refusal> warnings) {
        String v = Utf8.truncate(value.trim(), 4 * 100).toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            boolean bad = c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' || c == '|' || c == ','
                    || c == '#' || c == ':' || c == '-' || Character.isWhitespace(c) || Character.isSpaceChar(c) || Printable.unsafe(c);
            if (Character.isHighSurrogate(c) && i + 1 < v.length() && Character.isLowSurrogate(v.charAt(i + 1))) {
                b.append(c).append(v.charAt(++i));
                continue;
            }
            b.append(bad || Character.isSurrogate(c) ? '_' : c);
        }
        int from = 0;
        while (from < b.length() && (b.charAt(from) == '_' || b.charAt(from) == '+' || b.charAt(from) == '.')) {
            from++;
        }
        v = Utf8.truncate(b.substring(from), 100);
        if (v.isEmpty() || v.equals(".") || v.equals("..")) {
            refuse(warnings, reason, key, value, "leaves nothing valid for a data stream name", fallback);
            return fallback;
        }
        return v;
    }
}
