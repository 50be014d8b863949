package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.config.Config;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

/**
 * Creates the Kibana objects — the data view {@code logs-*}, the saved search
 * "logferry: container logs" and the dashboard "logferry: overview" (Lens panels by value) — by importing {@code /kibana/logferry.ndjson} (the same file as
 * {@code config/kibana/logferry.ndjson}) through Kibana's saved-objects API
 * ({@code POST /api/saved_objects/_import?overwrite=true}, multipart, {@code kbn-xsrf}). The objects
 * have fixed ids, so running it again replaces them instead of adding copies. Kibana accepts the
 * same credentials as Elasticsearch: the basic-auth user or the API key of the config.
 */
public final class KibanaSetup {
    static final String RESOURCE = "/kibana/logferry.ndjson";
    static final String IMPORT_PATH = "/api/saved_objects/_import?overwrite=true";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final Config.Elasticsearch auth;
    private final HttpClient http;
    /** {@code elasticsearch.timeout}: a request to Kibana waits as long as one to Elasticsearch, no longer. */
    private final Duration timeout;

    /** What Kibana answered to the import. */
    public record Result(int imported) { }

    /** A refusal or a failed import, as one line (never with a secret in it). */
    public static final class KibanaException extends IOException {
        private final int status;

        KibanaException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /**
     * @param url {@code kibana.url} (its path is kept: Kibana behind a gateway at {@code https://gw/kibana}); {@code auth}
     *            gives the credentials, the TLS trust settings and the timeout ({@code elasticsearch.timeout})
     */
    public KibanaSetup(String url, Config.Elasticsearch auth) throws Exception {
        this.base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        this.auth = auth;
        this.timeout = auth.timeout();
        Duration connect = auth.timeout().compareTo(Duration.ofSeconds(10)) < 0 ? auth.timeout() : Duration.ofSeconds(10);
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connect);
        SSLContext ssl = EsConnection.sslContext(auth);
        if (ssl != null) {
            b.sslContext(ssl);
        }
        if (!auth.proxyUrl().isEmpty()) {
            // elasticsearch.proxy_url serves Kibana too (without its credentials: the JDK's client keeps them from tunnels)
            org.apache.http.HttpHost p = EsConnection.proxyHost(auth.proxyUrl());
            b.proxy(java.net.ProxySelector.of(new java.net.InetSocketAddress(p.getHostName(), p.getPort())));
        }
        this.http = b.build();
    }

    /** The objects file in the jar. */
    public static byte[] objects() throws IOException {
        try (InputStream in = KibanaSetup.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the resource " + RESOURCE + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    /** {@code GET /api/status}: the Kibana version when it answers, else an exception with the reason. */
    public String status() throws IOException, InterruptedException {
        HttpResponse<String> r = send(HttpRequest.newBuilder(at("/api/status")).GET());
        if (r.statusCode() != 200) {
            throw refusal(r, "GET /api/status");
        }
        return JSON.readTree(r.body()).path("version").path("number").asText("?");
    }

    public Result importObjects() throws IOException, InterruptedException {
        String boundary = "logferry-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"logferry.ndjson\"\r\n"
                + "Content-Type: application/ndjson\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(objects());
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = send(HttpRequest.newBuilder(at(IMPORT_PATH))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
        if (r.statusCode() != 200) {
            throw refusal(r, "the saved-objects import");
        }
        JsonNode n = JSON.readTree(r.body());
        if (!n.path("success").asBoolean(false)) {
            throw new KibanaException(200, "kibana: the saved-objects import reported errors: " + abbreviate(n.path("errors").toString()));
        }
        return new Result(n.path("successCount").asInt(0));
    }

    /** {@code path} under {@code kibana.url}, its path kept ({@code https://gw/kibana} + {@code /api/status}); a query kept. */
    URI at(String path) {
        int q = path.indexOf('?');
        String p = q < 0 ? path : path.substring(0, q);
        String base = this.base.getRawPath() == null ? "" : this.base.getRawPath();
        return URI.create(this.base.getScheme() + "://" + this.base.getRawAuthority() + base + p + (q < 0 ? "" : path.substring(q)));
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
        b.timeout(timeout).header("kbn-xsrf", "true");
        String authorization = EsConnection.authorization(auth);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private KibanaException refusal(HttpResponse<String> r, String what) {
        if (r.statusCode() == 401) {
            String who = EsErrors.who(auth);
            return new KibanaException(401, "kibana: authentication failed" + (who.isEmpty() ? " (no credentials configured)" : " for " + who) + " (401)");
        }
        String msg = "";
        try {
            JsonNode n = JSON.readTree(r.body());
            msg = n.path("message").asText("");
        } catch (IOException | RuntimeException e) {
            msg = r.body();
        }
        return new KibanaException(r.statusCode(), "kibana: " + what + " answered " + r.statusCode() + (msg.isBlank() ? "" : ": " + abbreviate(msg)));
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 300 ? one.substring(0, 300) + "..." : one;
    }
}
