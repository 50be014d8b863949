package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes sure a data stream template covers every dataset a label chooses before its first
 * document: the main template covers {@code logs-docker*}; a container with
 * {@code logferry.dataset=nginx} gets the same mappings as template {@code logferry-nginx} for
 * {@code logs-nginx-*}. Without it, the first write would create a plain index, not a data
 * stream, with dynamic mappings. Installed once per dataset per run; retried until it succeeds.
 */
public final class DatasetTemplates {
    private static final Logger log = LoggerFactory.getLogger(DatasetTemplates.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RestClient client;
    private final Set<String> done = ConcurrentHashMap.newKeySet();

    public DatasetTemplates(RestClient client) {
        this.client = client;
        done.add("docker");
        done.add("logferry.deadletter");
    }

    /** Returns once the dataset's template exists (blocking, with backoff, while Elasticsearch is away). */
    public void ensure(String dataset) throws InterruptedException {
        // logs-docker* and logs-logferry* are the main template's own patterns
        if (client == null || done.contains(dataset) || dataset.startsWith("docker") || dataset.startsWith("logferry")) {
            return;
        }
        long wait = 1000;
        while (true) {
            try {
                install(dataset);
                done.add(dataset);
                return;
            } catch (IOException e) {
                log.warn("cannot install the index template for dataset '{}' yet ({}); its containers wait, retrying in {} ms",
                        dataset, e.getMessage(), wait);
                Thread.sleep(wait);
                wait = Math.min(wait * 2, 30_000);
            }
        }
    }

    private synchronized void install(String dataset) throws IOException {
        if (done.contains(dataset)) {
            return;
        }
        ObjectNode template;
        try (InputStream in = DatasetTemplates.class.getResourceAsStream("/elasticsearch/index-template.json")) {
            template = (ObjectNode) JSON.readTree(in);
        }
        template.putArray("index_patterns").add("logs-" + dataset + "-*");
        Request req = new Request("PUT", "/_index_template/logferry-" + dataset);
        req.setEntity(new StringEntity(template.toString(), ContentType.APPLICATION_JSON));
        client.performRequest(req);
        log.info("index template 'logferry-{}' installed for data streams logs-{}-*", dataset, dataset);
    }
}
