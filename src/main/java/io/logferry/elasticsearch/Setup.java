package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.elasticsearch.client.Request;
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
 * again, with the same name, at every start and every {@code logferry setup}.
 */
public final class Setup {
    private static final Logger log = LoggerFactory.getLogger(Setup.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String TEMPLATE = "logferry";
    /** Answers 200 where data stream lifecycles are managed; absent (4xx) where they are not. */
    static final String LIFECYCLE_PROBE = "/_data_stream/_lifecycle/stats";

    private Setup() { }

    /** What {@link #installTemplate(RestClient, String)} did. */
    public record Result(String template, boolean lifecycle, String retention) {
        public String describe() {
            String lc = !lifecycle ? "no lifecycle: this cluster does not manage data stream lifecycles"
                    : retention.isEmpty() ? "data stream lifecycle on, documents kept until deleted"
                    : "data stream lifecycle on, data_retention " + retention;
            return "index template '" + template + "' installed for logs-docker*, logs-logferry* (@timestamp date_nanos; " + lc + ")";
        }
    }

    /** The template with a lifecycle where the cluster supports it, without retention. */
    public static void installTemplate(RestClient client) throws IOException {
        installTemplate(client, "");
    }

    /**
     * @param retention an Elasticsearch time value ({@code 30d}) for {@code data_retention}, or empty
     *                  for none; only used where the cluster manages data stream lifecycles
     * @throws ResponseException when Elasticsearch refuses (its status and reason are in it)
     */
    public static Result installTemplate(RestClient client, String retention) throws IOException {
        boolean lifecycle = supportsLifecycle(client);
        Request req = new Request("PUT", "/_index_template/" + TEMPLATE);
        req.setEntity(new StringEntity(templateBody(lifecycle, retention), ContentType.APPLICATION_JSON));
        client.performRequest(req);
        Result r = new Result(TEMPLATE, lifecycle, lifecycle ? retention : "");
        log.info("{}", r.describe());
        if (!lifecycle && !retention.isEmpty()) {
            log.warn("retention {} not set: this cluster does not manage data stream lifecycles (needs Elasticsearch 8.14+ "
                    + "with the data-streams module); delete old backing indices yourself", retention);
        }
        return r;
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
