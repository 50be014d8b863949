package io.logferry.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.logferry.config.Config;
import io.logferry.elasticsearch.EsConnection;
import io.logferry.metrics.Metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code GET /health} (200 or 503 with the reason) and {@code GET /metrics} (Prometheus text).
 * With the Elasticsearch output, an {@link ElasticsearchProbe} keeps {@code /health} true while
 * the agent is idle: the agent's own view (Docker, the last bulk request) comes first, then the probe.
 */
public final class StatusServer implements AutoCloseable {
    static final Duration PROBE_EVERY = Duration.ofSeconds(3);
    private final HttpServer server;
    private final ElasticsearchProbe probe;

    /** The agent's server: host and port from {@code http}, with a probe of Elasticsearch when it is the output. */
    public StatusServer(Config config, Metrics metrics, Supplier<String> problem, String version) throws Exception {
        this(config.http().host(), config.http().port(), metrics, problem, version,
                config.output() == Config.Output.ELASTICSEARCH
                        ? new ElasticsearchProbe(EsConnection.build(config.elasticsearch()), config.elasticsearch(), PROBE_EVERY)
                        : null);
    }

    /** {@code problem} gives null when all is well, else the reason. */
    public StatusServer(String host, int port, Metrics metrics, Supplier<String> problem, String version) throws IOException {
        this(host, port, metrics, problem, version, null);
    }

    StatusServer(String host, int port, Metrics metrics, Supplier<String> agentProblem, String version, ElasticsearchProbe probe) throws IOException {
        this.probe = probe;
        Supplier<String> problem = probe == null ? agentProblem : () -> {
            String p = agentProblem.get();
            if (p != null) {
                return p;
            }
            String e = probe.problem();
            return e == null ? null : "elasticsearch: " + e;
        };
        if (probe != null) {
            metrics.gauge("logferry_elasticsearch_up", "1 when Elasticsearch answered the last probe (every "
                    + PROBE_EVERY.toSeconds() + " s), else 0", () -> probe.problem() == null ? 1 : 0);
        }
        server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "logferry-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/health", ex -> {
            String p = problem.get();
            String body = p == null
                    ? "{\"status\":\"up\",\"version\":\"" + version + "\"}\n"
                    : "{\"status\":\"down\",\"reason\":" + quote(p) + ",\"version\":\"" + version + "\"}\n";
            reply(ex, p == null ? 200 : 503, "application/json", body);
        });
        server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.prometheus()));
    }

    public void start() {
        server.start();
        if (probe != null) {
            probe.start();
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
    }

    private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(405, -1);
            ex.close();
            return;
        }
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        if (probe != null) {
            probe.close();
        }
    }
}
