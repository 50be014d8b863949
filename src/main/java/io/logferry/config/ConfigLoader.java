package io.logferry.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.logferry.model.DataStream;
import io.logferry.model.Ecs;
import io.logferry.model.FieldTree;
import io.logferry.model.MultilineMatch;
import io.logferry.model.MultilineType;
import io.logferry.model.Priority;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the {@link Config}: the defaults (resource {@code logferry-defaults.yml}, the same file
 * as {@code config/logferry.yml}), then the user's file with {@code ${VAR}} substituted, then the
 * {@code LOGFERRY_*} environment variables. The defaults tree is the schema: a key it lacks is
 * unknown, and a value whose kind differs from its default is invalid. Every problem is
 * collected, so that one start reports them all, one line each, naming the key.
 */
public final class ConfigLoader {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** The user's file: a key twice in one mapping is refused (else the second block would silently win). */
    private static final ObjectMapper STRICT_YAML = new ObjectMapper(new YAMLFactory())
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** {@code LOGFERRY_*} variables that are not config keys but are read elsewhere (the log, the compose files, the tests). */
    private static final List<String> ENV_NOT_KEYS = List.of("LOGFERRY_LOG_LEVEL", "LOGFERRY_LOG_FORMAT", "LOGFERRY_UID",
            "LOGFERRY_TAG", "LOGFERRY_IMAGE");
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final String ENV_PREFIX = "LOGFERRY_";
    private static final String PLACEHOLDER = "LOGFERRYVARREF";
    private static final Pattern PLACEHOLDER_REF = Pattern.compile(PLACEHOLDER + "(\\d+)Z");

    private final Map<String, String> env;
    private final List<String> problems = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    /** The Kibana of {@code elasticsearch.cloud.id}, for an empty {@code kibana.url}; empty without one. */
    private String cloudKibana = "";
    private int regexMaxLength = io.logferry.model.Regexes.DEFAULT_MAX_LENGTH;

    public ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    public static ObjectNode defaultsTree() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("/logferry-defaults.yml")) {
            return (ObjectNode) YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("the built-in defaults cannot be read", e);
        }
    }

    /**
     * What the last {@link #load} found worth saying that does not stop the agent: {@code LOGFERRY_*}
     * environment variables that are no config key (a misspelling), with the nearest key's variable.
     */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Loads {@code file} (may be null: defaults and environment only). */
    public Config load(Path file) throws ConfigException {
        problems.clear();
        warnings.clear();
        ObjectNode tree = defaultsTree();
        if (file != null) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ConfigException(List.of("config: cannot read " + file + ": " + readFailure(e)));
            }
            List<String[]> vars = new ArrayList<>();
            JsonNode user = parse(protect(text, vars), file.toString(), text);
            if (user != null && !user.isNull() && !user.isMissingNode()) {
                if (!user.isObject()) {
                    problems.add("config: " + file + " must be a mapping of keys");
                } else {
                    merge(tree, (ObjectNode) substitute((ObjectNode) user, vars, ""), "");
                }
            }
        }
        applyEnvironment(tree, defaultsTree(), "");
        unknownVariables(defaultsTree());
        // bind even when the file had problems: the rejected values kept their defaults, and the
        // semantic checks find the remaining problems, so that one start reports them all
        Config config = bind(tree);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    /** Why a file could not be read, in words (the exception's message alone is often just the path). */
    private static String readFailure(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file (give the path with --config; in a container, mount the file there)";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied (the agent runs as user " + System.getProperty("user.name", "?")
                    + ": make the file readable to it)";
        }
        if (e instanceof java.nio.charset.CharacterCodingException) {
            return "not UTF-8 text";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /**
     * The user's YAML; a syntax error or a key given twice in one mapping is refused with its line and
     * column ({@code original} is the text before {@code ${VAR}} references were protected: the lines are the same).
     */
    private JsonNode parse(String text, String source, String original) throws ConfigException {
        try {
            return STRICT_YAML.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
            String where = at == null || at.getLineNr() < 1 ? "" : " line " + at.getLineNr() + ", column " + at.getColumnNr();
            // SnakeYAML's message: what it was doing, the place, a snippet, what it found; the snippet lines are indented
            String message = String.join(": ", e.getOriginalMessage().lines().filter(l -> !l.isBlank() && !l.startsWith(" ")).toList());
            Matcher dup = Pattern.compile("^Duplicate field '(.*)'$").matcher(message);
            if (dup.find() && at != null && at.getLineNr() > 0) {
                int first = firstLine(original, dup.group(1), at.getLineNr());
                return refuse("config: " + source + where + ": key '" + dup.group(1) + "' is given twice in the same mapping"
                        + (first > 0 ? " (first at line " + first + ")" : "") + "; the second would replace the first: merge them");
            }
            return refuse("config: " + source + " is not valid YAML:" + where + ": " + message);
        } catch (IOException e) {
            return refuse("config: " + source + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static JsonNode refuse(String problem) throws ConfigException {
        throw new ConfigException(List.of(problem));
    }

    /**
     * The line, before {@code beforeLine}, where {@code key} was first given at the indentation it has on
     * {@code beforeLine} (0 when not found): for the message about a key given twice.
     */
    private static int firstLine(String text, String key, int beforeLine) {
        List<String> lines = text.lines().toList();
        if (beforeLine > lines.size()) {
            return 0;
        }
        String second = lines.get(beforeLine - 1);
        int indent = second.length() - second.stripLeading().length();
        Pattern keyLine = Pattern.compile("^[ ]{" + indent + "}(- )?[\"']?" + Pattern.quote(key) + "[\"']?\\s*:(\\s|$)");
        for (int i = 0; i < beforeLine - 1; i++) {
            if (keyLine.matcher(lines.get(i)).find()) {
                return i + 1;
            }
        }
        return 0;
    }

    /** A warning for each {@code LOGFERRY_*} environment variable that names no key, with the nearest key's variable. */
    private void unknownVariables(ObjectNode schema) {
        List<String> known = new ArrayList<>();
        envNames(schema, "", known);
        for (String name : new java.util.TreeSet<>(env.keySet())) {
            if (!name.startsWith(ENV_PREFIX) || known.contains(name) || ENV_NOT_KEYS.contains(name) || name.startsWith("LOGFERRY_TEST_")) {
                continue;
            }
            String nearest = nearest(name, known);
            warnings.add("config: environment variable " + name + " is not a config key and is ignored"
                    + (nearest != null ? "; did you mean " + nearest + "?" : ""));
        }
    }

    private static void envNames(ObjectNode schema, String prefix, List<String> into) {
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            if (e.getValue().isObject()) {
                if (e.getValue().has("type")) {
                    into.add(envName(key));
                }
                envNames((ObjectNode) e.getValue(), key + ".", into);
            } else {
                into.add(envName(key));
            }
        }
    }

    /**
     * The name of {@code known} nearest to {@code name} by {@link #distance}, or null when even the
     * nearest is further than a quarter of the name's length (at least 3): "did you mean" for
     * misspelt variables and labels alike.
     */
    public static String nearest(String name, Iterable<String> known) {
        String nearest = null;
        int best = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(name, k);
            if (d < best) {
                best = d;
                nearest = k;
            }
        }
        return nearest != null && best <= Math.max(3, name.length() / 4) ? nearest : null;
    }

    /** The edit distance of two names (insertions, deletions, substitutions), for "did you mean". */
    public static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    /**
     * Replaces every {@code ${VAR}} and {@code ${VAR:-fallback}} with a plain placeholder before the
     * YAML is parsed, so that a reference parses anywhere a word does (inside {@code [..]} too) and
     * a value holding YAML syntax ({@code #}, {@code : }, quotes) cannot change the document's
     * structure. The placeholders are resolved in the parsed values by {@link #substitute}; those
     * that were in comments disappear with them and are never looked up.
     */
    private static String protect(String text, List<String[]> vars) {
        Matcher m = VAR.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(PLACEHOLDER + vars.size() + "Z"));
            vars.add(new String[] {m.group(1), m.group(2)});
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Resolves the placeholders in every string value from the environment; an unset variable without fallback is a problem. */
    private JsonNode substitute(JsonNode node, List<String[]> vars, String path) {
        if (node instanceof ObjectNode obj) {
            for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                e.setValue(substitute(e.getValue(), vars, path + (path.isEmpty() ? "" : ".") + e.getKey()));
            }
            return obj;
        }
        if (node instanceof ArrayNode list) {
            for (int i = 0; i < list.size(); i++) {
                list.set(i, substitute(list.get(i), vars, path));
            }
            return list;
        }
        if (!node.isTextual() || !node.asText().contains(PLACEHOLDER)) {
            return node;
        }
        Matcher m = PLACEHOLDER_REF.matcher(node.asText());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String[] var = vars.get(Integer.parseInt(m.group(1)));
            String value = env.get(var[0]);
            if (value == null) {
                value = var[1];
            }
            if (value == null) {
                problems.add("config: key '" + path + "' uses ${" + var[0] + "}, but the environment variable "
                        + var[0] + " is not set (give a fallback with ${" + var[0] + ":-value})");
                value = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return TextNode.valueOf(out.toString());
    }

    /** Copies user values over the defaults, checking each key and kind against the default. */
    private void merge(ObjectNode target, ObjectNode user, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = user.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            JsonNode def = target.get(e.getKey());
            JsonNode value = e.getValue();
            if (def == null) {
                problems.add("config: unknown key '" + key + "'");
            } else if (def.isObject() && value.isNull()) {
                continue;       // a section whose keys are all commented out keeps its defaults
            } else if (def.isObject() && value.isObject()) {
                merge((ObjectNode) def, (ObjectNode) value, key + ".");
            } else if (def.isObject() && def.has("type") && value.isValueNode() && !value.isNull()) {
                ((ObjectNode) def).put("type", value.asText());     // shorthand: multiline: java
            } else {
                JsonNode fitted = fit(key, def, value);
                if (fitted != null) {
                    target.set(e.getKey(), fitted);
                }
            }
        }
    }

    /** Returns the value in the kind of its default, or records a problem and returns null. */
    private JsonNode fit(String key, JsonNode def, JsonNode value) {
        if (value.isNull()) {
            return def.isArray() ? JsonNodeFactory.instance.arrayNode() : def.isTextual() ? TextNode.valueOf("") : reject(key, def, value);
        }
        if (def.isArray()) {
            if (value.isArray()) {
                return value;
            }
            if (value.isValueNode()) {
                ArrayNode list = JsonNodeFactory.instance.arrayNode();
                for (String part : value.asText().split(",")) {
                    if (!part.isBlank()) {
                        list.add(part.trim());
                    }
                }
                return list;
            }
            return reject(key, def, value);
        }
        if (def.isObject() || !value.isValueNode()) {
            return reject(key, def, value);
        }
        if (def.isBoolean()) {
            String s = value.asText().trim().toLowerCase(Locale.ROOT);
            if (s.equals("true") || s.equals("false")) {
                return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(s));
            }
            return reject(key, def, value);
        }
        if (def.isIntegralNumber()) {
            try {
                return JsonNodeFactory.instance.numberNode(Long.parseLong(value.asText().trim()));
            } catch (NumberFormatException nfe) {
                return reject(key, def, value);
            }
        }
        return TextNode.valueOf(value.asText());
    }

    private JsonNode reject(String key, JsonNode def, JsonNode value) {
        String kind = def.isArray() ? "a list" : def.isObject() ? "a mapping" : def.isBoolean() ? "true or false"
                : def.isIntegralNumber() ? "a whole number" : "a string";
        problems.add("config: key '" + key + "' must be " + kind + ", got '" + (value.isValueNode() ? value.asText() : value.toString()) + "'");
        return null;
    }

    private void applyEnvironment(ObjectNode tree, ObjectNode schema, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            if (e.getValue().isObject()) {
                String shorthand = env.get(envName(key));
                if (shorthand != null && e.getValue().has("type")) {
                    ((ObjectNode) tree.get(e.getKey())).put("type", shorthand);
                }
                applyEnvironment((ObjectNode) tree.get(e.getKey()), (ObjectNode) e.getValue(), key + ".");
                continue;
            }
            String value = env.get(envName(key));
            if (value != null) {
                JsonNode fitted = fit(key + " (from " + envName(key) + ")", e.getValue(), TextNode.valueOf(value));
                if (fitted != null) {
                    tree.set(e.getKey(), fitted);
                }
            }
        }
    }

    static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    // ---- binding and semantic checks ----

    /**
     * One mapping of the config tree and its key path: each key is named once, where it is read,
     * and the path in a problem comes from here ({@code limits.max_bytes}).
     */
    private final class Section {
        private final String path;
        private final JsonNode node;

        Section(String path, JsonNode node) {
            this.path = path;
            this.node = node;
        }

        Section section(String name) {
            return new Section(key(name), node.get(name));
        }

        String key(String name) {
            return path.isEmpty() ? name : path + "." + name;
        }

        JsonNode raw(String name) {
            return node.get(name);
        }

        String text(String name) {
            return node.get(name).asText();
        }

        boolean bool(String name) {
            return node.get(name).asBoolean();
        }

        List<String> strings(String name) {
            return ConfigLoader.strings(node.get(name));
        }

        int positive(String name) {
            return ConfigLoader.this.positive(key(name), node.get(name));
        }

        long positiveLong(String name) {
            return ConfigLoader.this.positiveLong(key(name), node.get(name));
        }

        int nonNegative(String name) {
            return ConfigLoader.this.nonNegative(key(name), node.get(name));
        }

        String nonEmpty(String name) {
            return ConfigLoader.this.nonEmpty(key(name), node.get(name));
        }

        Duration duration(String name) {
            return ConfigLoader.this.duration(key(name), node.get(name));
        }

        <E extends Enum<E>> E choice(String name, Class<E> type) {
            return ConfigLoader.this.choice(key(name), node.get(name), type);
        }

        <E extends Enum<E>> E oneOf(String name, Class<E> type) {
            return ConfigLoader.this.oneOf(key(name), node.get(name).asText(), type);
        }
    }

    private Config bind(ObjectNode tree) {
        Section t = new Section("", tree);
        Config.Limits limits = limits(t.section("limits"));
        regexMaxLength = limits.regexMaxLength();
        Section lb = t.section("labels");
        Config.Labels labels = new Config.Labels(lb.strings("allowed_datasets"), lb.strings("allowed_namespaces"),
                lb.nonNegative("max_data_streams"), lb.strings("allowed_pipelines"));
        Section s = t.section("selection");
        Config.Selection selection = new Config.Selection(s.choice("mode", Config.SelectionMode.class),
                s.strings("include_labels"), s.strings("exclude_labels"), s.bool("exclude_self"));
        Config.ContainerDefaults defaults = defaults(t.section("defaults"), limits);
        Section q = t.section("queue");
        Section w = q.section("weights");
        Config.Queue queue = new Config.Queue(q.positive("max_events"), q.positiveLong("max_bytes"), weight(w, "high"),
                weight(w, "normal"), weight(w, "low"));
        Config.Elasticsearch elasticsearch = elasticsearch(t.section("elasticsearch"));
        if (DataStream.logs(defaults.dataset(), defaults.namespace()).name().equals(elasticsearch.deadLetter())) {
            problems.add("config: key 'elasticsearch.dead_letter' (" + elasticsearch.deadLetter()
                    + ") is the default data stream of defaults.dataset and defaults.namespace; choose another");
        }
        Section r = t.section("registry");
        Config.Registry registry = new Config.Registry(r.nonEmpty("path"), r.duration("flush_interval"));
        String kibanaUrl = t.section("kibana").text("url").trim();
        if (kibanaUrl.isEmpty()) {
            kibanaUrl = cloudKibana;
        }
        if (!kibanaUrl.isEmpty()) {
            checkHost("kibana.url", kibanaUrl);
        }
        Section setup = t.section("setup");
        String retention = setup.text("data_retention").trim();
        if (!retention.isEmpty() && !retention.matches("[1-9][0-9]{0,8}(d|h|m|s|ms)")) {
            problems.add("config: key '" + setup.key("data_retention") + "' must be an Elasticsearch time value such as 30d, 12h or 90m, got '"
                    + retention + "'");
        }
        String ilm = setup.text("ilm_policy").trim();
        if (!ilm.isEmpty() && !ilm.matches("[A-Za-z0-9][A-Za-z0-9._@-]{0,254}")) {
            problems.add("config: key '" + setup.key("ilm_policy") + "' must be a policy name (letters, digits, . _ @ -), got '" + ilm + "'");
        }
        return new Config(docker(t.section("docker")), selection, defaults, t.choice("output", Config.Output.class),
                queue, elasticsearch, labels, limits, setup.bool("enabled"), kibanaUrl,
                registry, t.section("shutdown").duration("timeout"), http(t.section("http")), spool(t.section("spool"), registry),
                new Config.Retention(retention, ilm));
    }

    private Config.Limits limits(Section li) {
        return new Config.Limits(li.positive("max_bytes"), li.positive("multiline_max_lines"), li.duration("multiline_max_timeout"),
                li.positive("regex_max_length"), li.positive("regex_max_count"), li.positive("container_labels_max_count"),
                li.positive("container_labels_max_bytes"), li.nonNegative("held_files_per_container"), li.positiveLong("held_bytes_total"),
                li.positive("processors_max_count"), li.positive("processor_max_value_bytes"), li.positive("processor_max_fields"),
                li.nonNegative("max_rate"), li.choice("max_priority", Priority.class), fieldLimit(li, "field_max_depth",
                        FieldTree.Limits.MIN_DEPTH, FieldTree.Limits.MAX_DEPTH), fieldLimit(li, "field_max_count", 1, 1_000_000),
                fieldLimit(li, "field_max_key_bytes", FieldTree.Limits.MIN_KEY_BYTES, 1 << 20), li.positiveLong("buffers_max_bytes"));
    }

    /** One of {@code limits.field_*}: within {@code min..max} (the value given when it is not, with the problem named). */
    private int fieldLimit(Section li, String key, int min, int max) {
        int v = li.positive(key);
        if (v < min || v > max) {
            problems.add("config: key '" + li.key(key) + "' must be between " + min + " and " + max + ", got " + v);
            return Math.max(min, Math.min(max, v));
        }
        return v;
    }

    /** {@code queue.weights.<name>}: 1 to 100. */
    private int weight(Section w, String name) {
        int v = w.positive(name);
        if (v > 100) {
            problems.add("config: key '" + w.key(name) + "' must be at most 100, got " + v);
        }
        return v;
    }

    private Config.Docker docker(Section d) {
        String host = d.text("host");
        if (!host.matches("(unix|tcp|https?|npipe)://.+")) {
            problems.add("config: key '" + d.key("host") + "' must be unix:///path, tcp://host:port or https://host:port, got '" + host + "'");
        }
        Section tls = d.section("tls");
        return new Config.Docker(host, d.text("containers_path"), d.choice("read_mode", Config.ReadMode.class),
                tls.text("ca_file"), tls.text("cert_file"), tls.text("key_file"),
                tls.bool("verify") ? Config.TlsVerify.FULL : Config.TlsVerify.NONE);
    }

    /** {@code defaults}, checked against the ceilings in {@code limits}. */
    private Config.ContainerDefaults defaults(Section df, Config.Limits limits) {
        Section ml = df.section("multiline");
        Config.Multiline multiline = new Config.Multiline(ml.oneOf("type", MultilineType.class), ml.text("pattern"), ml.bool("negate"),
                ml.oneOf("match", MultilineMatch.class), ml.positive("max_lines"), ml.duration("timeout"));
        if (multiline.type() == MultilineType.CUSTOM) {
            regex(ml.key("pattern"), multiline.pattern());
        }
        List<String> includeLines = df.strings("include_lines");
        List<String> excludeLines = df.strings("exclude_lines");
        includeLines.forEach(p -> regex(df.key("include_lines"), p));
        excludeLines.forEach(p -> regex(df.key("exclude_lines"), p));
        Config.ContainerDefaults defaults = new Config.ContainerDefaults(df.nonEmpty("dataset"), df.nonEmpty("namespace"),
                df.choice("streams", Streams.class), df.choice("start_position", StartPosition.class),
                multiline, df.bool("json"), df.text("json_message_key"), df.positive("max_bytes"), includeLines, excludeLines,
                df.text("pipeline").trim(), df.text("json_target"), df.nonNegative("max_rate"), df.choice("priority", Priority.class));
        if (!Ecs.validJsonTarget(defaults.jsonTarget())) {
            problems.add("config: key '" + df.key("json_target") + "' must be empty, json, or a lower-case name ([a-z][a-z0-9_]*, "
                    + "at most 64 characters) that is not an ECS field set or one logferry writes (host, service, log...), got '"
                    + defaults.jsonTarget() + "'");
        }
        if (limits.maxRate() > 0 && (defaults.maxRate() == 0 || defaults.maxRate() > limits.maxRate())) {
            problems.add("config: key '" + df.key("max_rate") + "' (" + (defaults.maxRate() == 0 ? "0: no limit" : defaults.maxRate())
                    + ") is above limits.max_rate (" + limits.maxRate() + ")");
        }
        if (defaults.priority().ordinal() < limits.maxPriority().ordinal()) {
            problems.add("config: key '" + df.key("priority") + "' (" + defaults.priority().word() + ") is above limits.max_priority ("
                    + limits.maxPriority().word() + ")");
        }
        atMost(df.key("max_bytes"), defaults.maxBytes(), "limits.max_bytes", limits.maxBytes());
        atMost(ml.key("max_lines"), multiline.maxLines(), "limits.multiline_max_lines", limits.multilineMaxLines());
        if (multiline.timeout().compareTo(limits.multilineMaxTimeout()) > 0) {
            problems.add("config: key '" + ml.key("timeout") + "' (" + multiline.timeout().toMillis() + "ms) is above limits.multiline_max_timeout ("
                    + limits.multilineMaxTimeout().toMillis() + "ms)");
        }
        if (includeLines.size() > limits.regexMaxCount() || excludeLines.size() > limits.regexMaxCount()) {
            problems.add("config: keys 'defaults.include_lines' and 'defaults.exclude_lines' may hold at most limits.regex_max_count ("
                    + limits.regexMaxCount() + ") regexes each");
        }
        return defaults;
    }

    private Config.Elasticsearch elasticsearch(Section es) {
        List<String> hosts = es.strings("hosts");
        String username = es.text("username");
        String password = es.text("password");
        Section cloud = es.section("cloud");
        cloudKibana = "";
        if (!cloud.text("id").isBlank()) {
            try {
                CloudId id = CloudId.parse(cloud.text("id"));
                List<String> defaultHosts = new ArrayList<>();
                defaultsTree().path("elasticsearch").path("hosts").forEach(h -> defaultHosts.add(h.asText()));
                if (!hosts.equals(defaultHosts)) {
                    problems.add("config: keys '" + es.key("hosts") + "' and '" + cloud.key("id") + "' both name the cluster; give one");
                }
                hosts = List.of(id.elasticsearch());
                cloudKibana = id.kibana();
            } catch (IllegalArgumentException e) {
                problems.add("config: key '" + cloud.key("id") + "' " + e.getMessage());
            }
        }
        String auth = cloud.text("auth");
        if (!auth.isEmpty()) {
            int colon = auth.indexOf(':');
            if (colon <= 0) {
                problems.add("config: key '" + cloud.key("auth") + "' must be user:password");
            } else if (!username.isEmpty()) {
                problems.add("config: keys '" + cloud.key("auth") + "' and '" + es.key("username") + "' both give the user; give one");
            } else {
                username = auth.substring(0, colon);
                password = auth.substring(colon + 1);
            }
        }
        String proxy = es.text("proxy_url").trim();
        if (!proxy.isEmpty()) {
            try {
                URI u = URI.create(proxy);
                if (u.getHost() == null || !(proxy.startsWith("http://") || proxy.startsWith("https://"))) {
                    problems.add("config: key '" + es.key("proxy_url") + "' must be an http:// or https:// URL");
                }
            } catch (IllegalArgumentException e) {
                problems.add("config: key '" + es.key("proxy_url") + "' is not a URL");
            }
        }
        if (hosts.isEmpty()) {
            problems.add("config: key '" + es.key("hosts") + "' must name at least one host");
        }
        hosts.forEach(h -> checkHost(es.key("hosts"), h));
        java.util.Set<String> prefixes = new java.util.TreeSet<>();
        for (String h : hosts) {
            try {
                String p = URI.create(h).getRawPath();
                prefixes.add(p == null ? "" : p.replaceAll("/+$", ""));
            } catch (IllegalArgumentException e) {
                // refused above
            }
        }
        if (prefixes.size() > 1) {
            problems.add("config: key '" + es.key("hosts") + "' has hosts with different paths " + prefixes.stream().map(p -> "'" + p + "'").toList()
                    + "; every host must be reached under the same path prefix");
        }
        Section tls = es.section("tls");
        Section backoff = es.section("backoff");
        String cert = tls.text("cert_file");
        String key = tls.text("key_file");
        if (cert.isEmpty() != key.isEmpty()) {
            problems.add("config: keys '" + tls.key("cert_file") + "' and '" + tls.key("key_file") + "' go together: give both or neither");
        }
        for (String[] f : new String[][] {{tls.key("cert_file"), cert}, {tls.key("key_file"), key}, {tls.key("ca_file"), tls.text("ca_file")}}) {
            if (!f[1].isEmpty() && !Files.isReadable(Path.of(f[1]))) {
                problems.add("config: key '" + f[0] + "': cannot read " + f[1]);
            }
        }
        return new Config.Elasticsearch(hosts, username, password, es.text("api_key"),
                tls.text("ca_file"), tls.text("ca_fingerprint"), tls.choice("verify", Config.TlsVerify.class),
                es.positive("bulk_max_events"), es.positiveLong("bulk_max_bytes"), es.duration("flush_interval"),
                es.positive("workers"), es.duration("timeout"), backoff.duration("initial"), backoff.duration("max"),
                es.nonEmpty("dead_letter"), proxy, cert, key);
    }

    /** An http:// or https:// URL without credentials in it (those belong in username/password or api_key). */
    private void checkHost(String key, String host) {
        try {
            URI uri = URI.create(host);
            if (uri.getRawUserInfo() != null) {
                problems.add("config: key '" + key + "' has a URL with credentials in it ("
                        + uri.getScheme() + "://***@" + uri.getHost() + "); put them in elasticsearch.username/password or api_key"
                        + (key.startsWith("kibana") ? " (Kibana is asked with the same credentials)" : ""));
            } else if (uri.getHost() == null || !(host.startsWith("http://") || host.startsWith("https://"))) {
                problems.add("config: key '" + key + "' has '" + host + "', which is not an http:// or https:// URL");
            }
        } catch (IllegalArgumentException e) {
            problems.add("config: key '" + key + "' has '" + host + "', which is not a URL");
        }
    }

    /** {@code spool}: its path defaults to {@code spool} beside the registry file. */
    private Config.Spool spool(Section sp, Config.Registry registry) {
        String path = sp.text("path");
        if (path.isEmpty()) {
            java.nio.file.Path parent = java.nio.file.Path.of(registry.path()).toAbsolutePath().getParent();
            path = (parent == null ? java.nio.file.Path.of("spool") : parent.resolve("spool")).toString();
        }
        return new Config.Spool(path, sp.positiveLong("max_bytes"), sp.positive("max_segments_per_container"));
    }

    private Config.Http http(Section h) {
        long port = h.raw("port").asLong();
        if (port < 0 || port > 65535) {
            problems.add("config: key '" + h.key("port") + "' must be between 0 and 65535, got " + h.text("port"));
            port = 0;
        }
        return new Config.Http(h.bool("enabled"), h.text("host"), (int) port, h.duration("stuck_after"));
    }

    private <E extends Enum<E>> E choice(String key, JsonNode node, Class<E> type) {
        String text = node.asText().trim();
        for (E e : type.getEnumConstants()) {
            if (e.name().replace('_', '-').equalsIgnoreCase(text) || e.name().equalsIgnoreCase(text)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        problems.add("config: key '" + key + "' must be one of " + String.join(", ", names) + ", got '" + text + "'");
        return type.getEnumConstants()[0];
    }

    /** The constant whose lower-case name is exactly {@code value} (no trimming, no other case: unlike {@link #choice}). */
    private <E extends Enum<E>> E oneOf(String key, String value, Class<E> type) {
        List<String> allowed = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            String word = e.name().toLowerCase(Locale.ROOT);
            if (word.equals(value)) {
                return e;
            }
            allowed.add(word);
        }
        problems.add("config: key '" + key + "' must be one of " + String.join(", ", allowed) + ", got '" + value + "'");
        return type.getEnumConstants()[0];
    }

    private int positive(String key, JsonNode node) {
        long v = positiveLong(key, node);
        if (v > Integer.MAX_VALUE) {
            problems.add("config: key '" + key + "' is too large: " + v);
            return 1;
        }
        return (int) v;
    }

    private long positiveLong(String key, JsonNode node) {
        long v = node.asLong();
        if (v <= 0) {
            problems.add("config: key '" + key + "' must be greater than 0, got " + node.asText());
            return 1;
        }
        return v;
    }

    private String nonEmpty(String key, JsonNode node) {
        String v = node.asText().trim();
        if (v.isEmpty()) {
            problems.add("config: key '" + key + "' must not be empty");
        }
        return v;
    }

    private Duration duration(String key, JsonNode node) {
        try {
            Duration d = Durations.parse(node.asText());
            if (d.isZero()) {
                problems.add("config: key '" + key + "' must be longer than 0");
                return Duration.ofSeconds(1);
            }
            return d;
        } catch (IllegalArgumentException e) {
            problems.add("config: key '" + key + "': " + e.getMessage());
            return Duration.ofSeconds(1);
        }
    }

    private void regex(String key, String pattern) {
        try {
            io.logferry.model.Regexes.compile(pattern, regexMaxLength);
        } catch (IllegalArgumentException e) {
            problems.add("config: key '" + key + "' has a regex that is refused: '" + pattern + "' " + e.getMessage());
        }
    }

    private void atMost(String key, long value, String limitKey, long limit) {
        if (value > limit) {
            problems.add("config: key '" + key + "' (" + value + ") is above " + limitKey + " (" + limit + ")");
        }
    }

    private int nonNegative(String key, JsonNode node) {
        long v = node.asLong();
        if (v < 0 || v > Integer.MAX_VALUE) {
            problems.add("config: key '" + key + "' must be between 0 and " + Integer.MAX_VALUE + ", got " + node.asText());
            return 0;
        }
        return (int) v;
    }

    private static List<String> strings(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(n.asText()));
        return List.copyOf(out);
    }
}
