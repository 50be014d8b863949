package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.DataStream;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;

import java.io.IOException;
import java.io.InputStream;

/**
 * Whether the cluster has what Elastic's integration installs for a module's dataset, for
 * {@code logferry check}. Fleet names an integration's index template after the data stream's
 * type and dataset ({@code logs-nginx.access}, pattern {@code logs-nginx.access-*}, priority 200)
 * and its ingest pipeline after the dataset and the package version
 * ({@code logs-nginx.access-1.20.0}), which the template names as {@code index.default_pipeline}
 * (Elastic's integrations developer guide, "Edit ingest pipelines" and the package-spec's data
 * stream layout). So the check is: the template {@code logs-<dataset>} exists, it has a default
 * pipeline, and that pipeline (and the template's {@code index.final_pipeline}, Fleet's
 * {@code .fleet_final_pipeline-1}, when it names one) exists. Reads only.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Integrations {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Integrations() { }

    /** The name of the index template Elastic's integration installs for {@code dataset}: {@code logs-<dataset>}. */
    public static String templateName(String dataset) {
        return DataStream.LOGS + "-" + dataset;
    }

    /** One line on what the cluster has for {@code dataset}'s data streams; asks Elasticsearch. */
    public static String check(RestClient client, String dataset) {
        String name = templateName(dataset);
        try {
            JsonNode templates = get(client, "/_index_template/" + name);
            JsonNode t = templates == null ? null : templates.path("index_templates").path(0).path("index_template");
            if (t == null || t.isMissingNode()) {
                return describe(dataset, null, false, false);
            }
            String pipeline = setting(t, "default_pipeline");
            String last = setting(t, "final_pipeline");
            boolean pipelineThere = !pipeline.isEmpty() && get(client, "/_ingest/pipeline/" + pipeline) != null;
            boolean finalThere = last.isEmpty() || get(client, "/_ingest/pipeline/" + last) != null;
            return describe(dataset, t, pipelineThere, finalThere);
        } catch (IOException | RuntimeException e) {
            return "index template '" + name + "' and its ingest pipeline not checked ("
                    + (e instanceof ResponseException re ? EsErrors.reason(re) : String.valueOf(e.getMessage())) + ")";
        }
    }

    /**
     * The line for {@code dataset}, from the template's {@code index_template} object (null: none)
     * and whether its default and final pipelines exist. Pure.
     */
    static String describe(String dataset, JsonNode template, boolean pipelineThere, boolean finalThere) {
        String name = templateName(dataset);
        if (template == null) {
            return "no index template '" + name + "' (Elastic's integration for " + dataset + " is not installed): documents are stored"
                    + " as shipped, not parsed";
        }
        StringBuilder b = new StringBuilder("index template '").append(name).append("' (priority ")
                .append(template.path("priority").asInt(0)).append(Templates.ours(template) ? ", logferry's" : "").append(')');
        String pipeline = setting(template, "default_pipeline");
        if (pipeline.isEmpty()) {
            b.append(", without a default ingest pipeline: documents are stored as shipped, not parsed");
        } else if (!pipelineThere) {
            b.append(", its ingest pipeline '").append(pipeline).append("' is missing: Elasticsearch refuses the documents");
        } else {
            b.append(", ingest pipeline '").append(pipeline).append("': documents are parsed by the integration");
        }
        String last = setting(template, "final_pipeline");
        if (!last.isEmpty() && !finalThere) {
            b.append("; its final pipeline '").append(last).append("' is missing: Elasticsearch refuses the documents");
        }
        return b.toString();
    }

    /** {@code template.settings.index.<key>}, nested or dotted; empty when absent. */
    static String setting(JsonNode indexTemplate, String key) {
        JsonNode settings = indexTemplate.path("template").path("settings");
        String v = settings.path("index").path(key).asText("");
        return v.isEmpty() ? settings.path("index." + key).asText("") : v;
    }

    /** The answer's JSON, or null on 404. */
    private static JsonNode get(RestClient client, String path) throws IOException {
        try (InputStream in = client.performRequest(new Request("GET", path)).getEntity().getContent()) {
            return JSON.readTree(in);
        } catch (ResponseException e) {
            if (EsErrors.status(e) == 404) {
                return null;
            }
            throw e;
        }
    }
}
