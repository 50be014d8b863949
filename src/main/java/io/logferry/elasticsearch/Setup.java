package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.metrics.Metric;
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
    static final String BEYOND_LIMIT = "ignore_dynamic_beyond_limit";
    /** Counts templates left alone, by reason ({@code not_ours}, {@code would_shadow}, {@code refused}). */
    public static final String SKIPPED_METRIC = Metric.TEMPLATES_SKIPPED.metricName();

    private Setup() { }

    /** What {@link #installTemplate(RestClient, String)} did. */
    public record Result(String template, boolean lifecycle, String retention, boolean installed) {
        public Result(String template, boolean lifecycle, String retention) {
            this(template, lifecycle, retention, true);
        }

        public String describe() {
            if (!installed) {
                return "index template '" + template + "' exists and was not put by logferry (its _meta has no managed_by: logferry): "
                        + "left as it is; logs-docker* and logs-logferry* data streams use whatever template matches them";
            }
            String lc = !lifecycle ? "no lifecycle: this cluster does not manage data stream lifecycles"
                    : retention.isEmpty() ? "data stream lifecycle on, documents kept until deleted"
                    : "data stream lifecycle on, data_retention " + retention;
            return "index template '" + template + "' installed for logs-docker*, logs-logferry* (@timestamp date_nanos; " + lc + ")";
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
        boolean lifecycle = supportsLifecycle(client);
        JsonNode existing = existing(client, TEMPLATE);
        if (Templates.decide(TEMPLATE, null, existing) instanceof Templates.Decision.NotOurs) {
            skipped(metrics, "not_ours");
            Result r = new Result(TEMPLATE, lifecycle, "", false);
            log.warn("{}", r.describe());
            return r;
        }
        put(client, TEMPLATE, (ObjectNode) JSON.readTree(templateBody(lifecycle, retention)));
        Result r = new Result(TEMPLATE, lifecycle, lifecycle ? retention : "");
        log.info("{}", r.describe());
        if (!lifecycle && !retention.isEmpty()) {
            log.warn("retention {} not set: this cluster does not manage data stream lifecycles (needs Elasticsearch 8.14+ "
                    + "with the data-streams module); delete old backing indices yourself", retention);
        }
        return r;
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
     * {@code index.mapping.total_fields.ignore_dynamic_beyond_limit}, again without it.
     */
    static void put(RestClient client, String name, ObjectNode body) throws IOException {
        Request req = new Request("PUT", "/_index_template/" + name);
        req.setEntity(new StringEntity(body.toString(), ContentType.APPLICATION_JSON));
        try {
            client.performRequest(req);
        } catch (ResponseException e) {
            if (EsErrors.status(e) != 400 || !EsErrors.reason(e).contains(BEYOND_LIMIT) || !withoutBeyondLimit(body)) {
                throw e;
            }
            log.warn("this Elasticsearch does not know index.mapping.total_fields.{} (it came in 8.13): template '{}' is put "
                    + "without it, so a document with more fields than index.mapping.total_fields.limit is refused "
                    + "(and goes to the dead-letter stream)", BEYOND_LIMIT, name);
            Request again = new Request("PUT", "/_index_template/" + name);
            again.setEntity(new StringEntity(body.toString(), ContentType.APPLICATION_JSON));
            client.performRequest(again);
        }
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

    /** The template resource, with {@code template.lifecycle} added when {@code lifecycle}. Pure. */
    public static String templateBody(boolean lifecycle, String retention) {
        try (InputStream in = Setup.class.getResourceAsStream("/elasticsearch/index-template.json")) {
            if (in == null) {
                throw new IllegalStateException("the resource /elasticsearch/index-template.json is missing from the jar");
            }
            ObjectNode t = (ObjectNode) JSON.readTree(in);
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
}
