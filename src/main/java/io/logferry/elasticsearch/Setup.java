package io.logferry.elasticsearch;

import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Installs what Elasticsearch needs before the first document: the index template for
 * {@code logs-docker*} (and the dead-letter stream {@code logs-logferry*}) with ECS mappings and
 * {@code @timestamp} as {@code date_nanos}, as data streams.
 */
public final class Setup {
    private static final Logger log = LoggerFactory.getLogger(Setup.class);
    public static final String TEMPLATE = "logferry";

    private Setup() { }

    public static void installTemplate(RestClient client) throws IOException {
        String body;
        try (InputStream in = Setup.class.getResourceAsStream("/elasticsearch/index-template.json")) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Request req = new Request("PUT", "/_index_template/" + TEMPLATE);
        req.setEntity(new StringEntity(body, ContentType.APPLICATION_JSON));
        client.performRequest(req);
        log.info("index template '{}' installed", TEMPLATE);
    }
}
