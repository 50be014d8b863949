package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.metrics.Metric;
import io.logferry.config.Config;
import io.logferry.metrics.Metrics;
import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Installs what Elasticsearch needs before the first document: the index template for
 * {@code logs-docker*} (and the dead-letter stream {@code logs-logferry*}) with ECS mappings and
 * {@code @timestamp} as {@code date_nanos}, as data streams, and — where the cluster manages data
 * stream lifecycles (Elasticsearch 8.14 and later with the data-streams module) — a lifecycle in
 * the template, with {@code data_retention} when one is given. Idempotent: the template is put
 * again, with the same name, at every start and every {@code logferry setup} — unless a template
 * of that name exists that logferry did not put (no {@code _meta.managed_by: logferry}): that one
 * is left as it is, with a warning, and {@code logs-docker*} streams use it.
 *
 * <p>The template is composed of Elasticsearch's own {@code logs@settings} and {@code ecs@mappings}
 * where the cluster has them ({@link #COMPONENTS}), with logferry's settings and mappings on top
 * (docs/documents.md, "The index template"). Its priority, {@value #PRIORITY}, is below the 200 of
 * Fleet's integration templates: Elastic's Docker integration ({@code logs-docker.container_logs-*})
 * keeps its own streams, and the two can be installed side by side (Elasticsearch refuses two
 * overlapping templates of one priority). Field types a cluster lacks ({@code match_only_text},
 * {@code constant_keyword}, {@code wildcard}: modules not every distribution has) are put as
 * {@code text} and {@code keyword} instead, and {@code flattened} as an object Elasticsearch does not
 * parse ({@code enabled: false}: any shape, kept in {@code _source}, not searchable) ({@link #FALLBACK}).
 *
 * <p>The settings {@code index.mapping.total_fields.ignore_dynamic_beyond_limit} (fields beyond
 * the limit are kept in {@code _source} but not indexed, instead of refusing the document) and
 * {@code index.mapping.ignore_malformed} (a value that does not fit its field's type is not
 * indexed; the document is kept) are in the template; a cluster that does not know the first
 * (before Elasticsearch 8.13) gets the template without it.
 */
public final class Setup {
    private static final Logger log = LoggerFactory.getLogger(Setup.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String TEMPLATE = "logferry";
    /** Answers 200 where data stream lifecycles are managed; absent (4xx) where they are not. */
    static final String LIFECYCLE_PROBE = "/_data_stream/_lifecycle/stats";
    /** Answers 200 where ILM runs; absent (4xx) where it does not (the test distribution). */
    static final String ILM_PROBE = "/_ilm/status";
    static final String BEYOND_LIMIT = "ignore_dynamic_beyond_limit";
    /** Counts templates left alone, by reason ({@code not_ours}, {@code would_shadow}, {@code refused}). */
    public static final String SKIPPED_METRIC = Metric.TEMPLATES_SKIPPED.metricName();
    /** Below Fleet's 200, above Elasticsearch's built-in {@code logs-*-*} (100). */
    public static final int PRIORITY = 199;
    /** Elasticsearch's own component templates the template is composed of, where the cluster has them. */
    static final List<String> COMPONENTS = List.of("logs@settings", "ecs@mappings");
    /** What a field type becomes where the cluster does not know it (its module is not installed). */
    static final Map<String, String> FALLBACK = Map.of("match_only_text", "text", "constant_keyword", "keyword", "wildcard", "keyword",
            // logferry.flattened (documents retyped after a mapping conflict): kept in _source, any shape, not searchable
            "flattened", "object");
    /** Types of {@link #FALLBACK} the cluster refused once in this run: the next templates get the fallback at once. */
    private static final Set<String> UNKNOWN_TYPES = ConcurrentHashMap.newKeySet();
    private static final Pattern UNKNOWN_TYPE = Pattern.compile("mapper type \\[([a-z_]+)\\] declared on field");

    private Setup() { }

    /** What {@link #installTemplate(RestClient, String)} did. */
    public record Result(String template, boolean lifecycle, String retention, boolean installed, List<String> components, String ilmPolicy) {
        public Result(String template, boolean lifecycle, String retention) {
            this(template, lifecycle, retention, true);
        }

        public Result(String template, boolean lifecycle, String retention, boolean installed) {
            this(template, lifecycle, retention, installed, List.of(), "");
        }

        public Result(String template, boolean lifecycle, String retention, boolean installed, List<String> components) {
            this(template, lifecycle, retention, installed, components, "");
        }

        public String describe() {
            if (!installed) {
                return "index template '" + template + "' exists and was not put by logferry (its _meta has no managed_by: logferry): "
                        + "left as it is; logs-docker* and logs-logferry* data streams use whatever template matches them";
            }
            String lc = !ilmPolicy.isEmpty() ? "ILM policy " + ilmPolicy
                    : !lifecycle ? "no lifecycle: this cluster does not manage data stream lifecycles"
                    : retention.isEmpty() ? "data stream lifecycle on, documents kept until deleted (setup.data_retention is empty)"
                    : "data stream lifecycle on, data_retention " + retention;
            String on = components.isEmpty() ? "no Elasticsearch component templates here (logs@settings, ecs@mappings)"
                    : "composed of " + String.join(", ", components);
            return "index template '" + template + "' installed for logs-docker*, logs-logferry* (priority " + PRIORITY
                    + ", " + on + "; @timestamp date_nanos; " + lc + ")";
        }
    }

    /**
     * @param retention an Elasticsearch time value ({@code 30d}) for {@code data_retention}, or empty
     *                  for none; only used where the cluster manages data stream lifecycles
     * @throws ResponseException when Elasticsearch refuses (its status and reason are in it)
     */
    public static Result installTemplate(RestClient client, String retention) throws IOException {
        return installTemplate(client, retention, null);
    }

    /** As {@link #installTemplate(RestClient, String)}, counting a template left alone in {@code metrics} (when not null). */
    public static Result installTemplate(RestClient client, String retention, Metrics metrics) throws IOException {
        return installTemplate(client, new Config.Retention(retention, ""), metrics);
    }

    /**
     * As {@link #installTemplate(RestClient, String)} with the config's retention: {@code setup.ilm_policy}
     * where the cluster runs ILM, else the data stream lifecycle with {@code setup.data_retention}.
     */
    public static Result installTemplate(RestClient client, Config.Retention wanted, Metrics metrics) throws IOException {
        return installTemplate(client, lifecycle(client, wanted), metrics);
    }

    /** What the cluster can do with {@code setup.*}'s retention, asked once: the same for the main and the datasets' templates. */
    public record Lifecycle(boolean dataStreamLifecycle, String retention, String ilmPolicy) { }

    /** Asks the cluster whether it manages data stream lifecycles and runs ILM; warns about what it cannot apply. */
    public static Lifecycle lifecycle(RestClient client, Config.Retention wanted) throws IOException {
        boolean dsl = supportsLifecycle(client);
        String ilm = "";
        if (!wanted.ilmPolicy().isEmpty()) {
            if (answers(client, ILM_PROBE)) {
                ilm = wanted.ilmPolicy();
            } else {
                log.warn("setup.ilm_policy {} not set: this cluster does not run ILM{}", wanted.ilmPolicy(),
                        dsl && !wanted.dataRetention().isEmpty() ? "; the data stream lifecycle keeps data_retention " + wanted.dataRetention()
                                : "");
            }
        }
        return new Lifecycle(dsl, wanted.dataRetention(), ilm);
    }

    private static boolean answers(RestClient client, String path) throws IOException {
        try {
            client.performRequest(new Request("GET", path));
            return true;
        } catch (ResponseException e) {
            if (e.getResponse().getStatusLine().getStatusCode() == 401) {
                throw e;
            }
            return false;
        }
    }

    private static Result installTemplate(RestClient client, Lifecycle how, Metrics metrics) throws IOException {
        boolean lifecycle = how.dataStreamLifecycle();
        String retention = how.retention();
        JsonNode existing = existing(client, TEMPLATE);
        if (Templates.decide(TEMPLATE, null, existing) instanceof Templates.Decision.NotOurs) {
            skipped(metrics, "not_ours");
            Result r = new Result(TEMPLATE, lifecycle, "", false);
            log.warn("{}", r.describe());
            return r;
        }
        List<String> components = components(client);
        put(client, TEMPLATE, template(how, components));
        Result r = new Result(TEMPLATE, lifecycle, lifecycle ? retention : "", true, components, how.ilmPolicy());
        log.info("{}", r.describe());
        if (!lifecycle && !retention.isEmpty() && how.ilmPolicy().isEmpty()) {
            log.warn("retention {} not set: this cluster does not manage data stream lifecycles (needs Elasticsearch 8.14+ "
                    + "with the data-streams module); delete old backing indices yourself", retention);
        }
        return r;
    }

    /**
     * Which template Elasticsearch applies to the streams logferry writes, and to the streams of
     * other templates that overlap its patterns (Fleet's {@code logs-docker.container_logs-*}), one
     * line each: the winner by priority among the cluster's templates, checked with
     * {@code POST /_index_template/_simulate_index/<stream>} (logferry's template is the one that
     * maps {@code @timestamp} as {@code date_nanos}). For {@code logferry setup}.
     */
    public static List<String> whatWins(RestClient client) throws IOException {
        JsonNode all = existing(client, "*");
        List<String> ours = new ArrayList<>();
        JsonNode mine = null;
        for (JsonNode t : all.path("index_templates")) {
            if (t.path("name").asText().equals(TEMPLATE)) {
                mine = t.path("index_template");
                mine.path("index_patterns").forEach(p -> ours.add(p.asText()));
            }
        }
        if (mine == null) {
            return List.of("no template '" + TEMPLATE + "' in the cluster");
        }
        Set<String> streams = new java.util.LinkedHashSet<>(List.of("logs-docker-default", "logs-logferry.deadletter-default"));
        for (JsonNode t : all.path("index_templates")) {
            if (t.path("name").asText().equals(TEMPLATE)) {
                continue;
            }
            for (JsonNode p : t.path("index_template").path("index_patterns")) {
                String stream = p.asText().replace("*", "default");
                if (ours.stream().anyMatch(o -> Templates.overlap(o, stream))) {
                    streams.add(stream);
                }
            }
        }
        List<String> lines = new ArrayList<>();
        for (String stream : streams) {
            String winner = null;
            int best = Integer.MIN_VALUE;
            for (JsonNode t : all.path("index_templates")) {
                JsonNode it = t.path("index_template");
                int priority = it.path("priority").asInt(0);
                boolean matches = false;
                for (JsonNode p : it.path("index_patterns")) {
                    matches |= Templates.overlap(p.asText(), stream);
                }
                if (matches && priority > best) {
                    best = priority;
                    winner = t.path("name").asText();
                }
            }
            String simulated;
            try {
                Request sim = new Request("POST", "/_index_template/_simulate_index/" + stream);
                try (InputStream in = client.performRequest(sim).getEntity().getContent()) {
                    JsonNode r = JSON.readTree(in);
                    boolean logferrys = "date_nanos".equals(r.path("template").path("mappings").path("properties")
                            .path("@timestamp").path("type").asText());
                    simulated = "Elasticsearch's simulation: " + (logferrys ? "logferry's mappings" : "not logferry's mappings");
                }
            } catch (ResponseException e) {
                simulated = "simulation refused: " + EsErrors.reason(e);
            }
            lines.add(stream + " -> template '" + winner + "' (priority " + best + ")"
                    + (TEMPLATE.equals(winner) ? "" : ", not logferry's (" + PRIORITY + "): that template keeps its streams")
                    + "; " + simulated);
        }
        return lines;
    }

    /** Counts a template left alone. */
    static void skipped(Metrics metrics, String reason) {
        if (metrics != null) {
            metrics.counter(Metric.TEMPLATES_SKIPPED, "reason", reason).increment();
        }
    }

    /**
     * {@code GET /_index_template/<name>}: the answer ({@code {"index_templates":[..]}}), or an empty
     * list when there is no such template (404). Names may be patterns ({@code *}).
     */
    static JsonNode existing(RestClient client, String name) throws IOException {
        Request get = new Request("GET", "/_index_template/" + name);
        get.addParameter("filter_path", "index_templates.name,index_templates.index_template.index_patterns,"
                + "index_templates.index_template.priority,index_templates.index_template._meta");
        try {
            Response resp = client.performRequest(get);
            try (InputStream in = resp.getEntity().getContent()) {
                return JSON.readTree(in);
            }
        } catch (ResponseException e) {
            if (EsErrors.status(e) == 404) {
                return JSON.createObjectNode().putArray("index_templates");
            }
            throw e;
        }
    }

    /**
     * {@code PUT /_index_template/<name>}; where the cluster does not know
     * {@code index.mapping.total_fields.ignore_dynamic_beyond_limit}, again without it; where it does
     * not know a field type of {@link #FALLBACK}, again with the fallback type.
     */
    static void put(RestClient client, String name, ObjectNode body) throws IOException {
        for (String type : UNKNOWN_TYPES) {
            fallBack(body, type);
        }
        for (int attempt = 0; ; attempt++) {
            Request req = new Request("PUT", "/_index_template/" + name);
            req.setEntity(new StringEntity(body.toString(), ContentType.APPLICATION_JSON));
            try {
                client.performRequest(req);
                return;
            } catch (ResponseException e) {
                if (EsErrors.status(e) != 400 || attempt >= FALLBACK.size() + 1) {
                    throw e;
                }
                String reason = EsErrors.reason(e);
                Matcher unknown = UNKNOWN_TYPE.matcher(e.getMessage() == null ? "" : e.getMessage());
                if (unknown.find() && FALLBACK.containsKey(unknown.group(1)) && fallBack(body, unknown.group(1))) {
                    UNKNOWN_TYPES.add(unknown.group(1));
                    log.info("this Elasticsearch has no field type {} (its module is not installed): template '{}' uses {} instead",
                            unknown.group(1), name, FALLBACK.get(unknown.group(1)));
                } else if (reason.contains(BEYOND_LIMIT) && withoutBeyondLimit(body)) {
                    log.warn("this Elasticsearch does not know index.mapping.total_fields.{} (it came in 8.13): template '{}' is put "
                            + "without it, so a document with more fields than index.mapping.total_fields.limit is refused "
                            + "(and goes to the dead-letter stream)", BEYOND_LIMIT, name);
                } else {
                    throw e;
                }
            }
        }
    }

    /** Replaces field type {@code type} by its {@link #FALLBACK} throughout {@code node}; false when there was none. */
    static boolean fallBack(JsonNode node, String type) {
        boolean changed = false;
        if (node instanceof ObjectNode o) {
            if (type.equals(o.path("type").asText(null))) {
                o.put("type", FALLBACK.get(type));
                if ("object".equals(FALLBACK.get(type))) {
                    // an object that is not parsed takes any shape, as flattened does, but is not indexed
                    o.remove(List.of("ignore_above", "depth_limit"));
                    o.put("enabled", false);
                }
                if ("keyword".equals(FALLBACK.get(type)) && !o.has("ignore_above")) {
                    // a keyword term longer than 32 KiB would refuse the document; wildcard had no such limit
                    o.put("ignore_above", 1024);
                }
                changed = true;
            }
            for (JsonNode child : o) {
                changed |= fallBack(child, type);
            }
        } else if (node != null && node.isArray()) {
            for (JsonNode child : node) {
                changed |= fallBack(child, type);
            }
        }
        return changed;
    }

    /**
     * Which of {@link #COMPONENTS} the cluster holds ({@code GET /_component_template/<name>}: 404 when
     * not). A cluster without them (no stack templates, an older version) gets logferry's template alone.
     */
    public static List<String> components(RestClient client) throws IOException {
        List<String> present = new ArrayList<>();
        for (String c : COMPONENTS) {
            Request get = new Request("GET", "/_component_template/" + c);
            get.addParameter("filter_path", "component_templates.name");
            try {
                client.performRequest(get);
                present.add(c);
            } catch (ResponseException e) {
                int status = EsErrors.status(e);
                if (status == 401 || status >= 500) {
                    throw e;
                }
                // 404: not there; 400/403/405: not something this cluster or user has
            }
        }
        return present;
    }

    /** Removes the setting from a template body; false when it was not there. */
    static boolean withoutBeyondLimit(ObjectNode body) {
        JsonNode totalFields = body.path("template").path("settings").path("index").path("mapping").path("total_fields");
        return totalFields instanceof ObjectNode o && o.remove(BEYOND_LIMIT) != null;
    }

    /** True when the cluster runs data stream lifecycle management; false when the API is absent. */
    static boolean supportsLifecycle(RestClient client) throws IOException {
        try {
            client.performRequest(new Request("GET", LIFECYCLE_PROBE));
            return true;
        } catch (ResponseException e) {
            int status = e.getResponse().getStatusLine().getStatusCode();
            if (status == 401) {
                throw e;
            }
            // 400/404/405: no such API here; 403: not allowed to look, so do not rely on it
            return false;
        }
    }

    /**
     * The template resource composed of {@code components}, with what {@code how} says: the ILM policy in its
     * settings ({@code index.lifecycle.name}, ILM preferred), else the data stream lifecycle with its retention
     * where the cluster manages lifecycles. The main template and every dataset's use it. Pure.
     */
    public static ObjectNode template(Lifecycle how, List<String> components) throws IOException {
        if (how.ilmPolicy().isEmpty()) {
            return (ObjectNode) JSON.readTree(templateBody(how.dataStreamLifecycle(), how.retention(), components));
        }
        ObjectNode t = template(components);
        ObjectNode index = (ObjectNode) t.path("template").path("settings").path("index");
        index.putObject("lifecycle").put("name", how.ilmPolicy()).put("prefer_ilm", true);
        return t;
    }

    /** The template alone, without Elasticsearch's component templates. */
    public static String templateBody(boolean lifecycle, String retention) {
        return templateBody(lifecycle, retention, List.of());
    }

    /**
     * The template resource composed of {@code components} (those of {@link #COMPONENTS} the cluster
     * has), with {@code template.lifecycle} added when {@code lifecycle}. Pure.
     */
    public static String templateBody(boolean lifecycle, String retention, List<String> components) {
        try {
            ObjectNode t = template(components);
            if (lifecycle && components.contains("logs@settings")) {
                // logs@settings names the ILM policy "logs"; ILM would otherwise win over the data stream lifecycle
                ((ObjectNode) t.path("template").path("settings").path("index")).putObject("lifecycle").put("prefer_ilm", false);
            }
            if (lifecycle) {
                ObjectNode lc = ((ObjectNode) t.get("template")).putObject("lifecycle");
                lc.put("enabled", true);
                if (retention != null && !retention.isBlank()) {
                    lc.put("data_retention", retention.trim());
                }
            }
            return JSON.writeValueAsString(t);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The template resource with {@code composed_of} set to {@code components}. */
    static ObjectNode template(List<String> components) throws IOException {
        try (InputStream in = Setup.class.getResourceAsStream("/elasticsearch/index-template.json")) {
            if (in == null) {
                throw new IllegalStateException("the resource /elasticsearch/index-template.json is missing from the jar");
            }
            ObjectNode t = (ObjectNode) JSON.readTree(in);
            ArrayNode composed = t.putArray("composed_of");
            components.forEach(composed::add);
            return t;
        }
    }
}
