package io.logferry.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.logferry.metrics.Metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/** {@code GET /health} (200 or 503 with the reason) and {@code GET /metrics} (Prometheus text). */
public final class StatusServer implements AutoCloseable {
    private final HttpServer server;

    /** {@code problem} gives null when all is well, else the reason. */
    public StatusServer(String host, int port, Metrics metrics, Supplier<String> problem, String version) throws IOException {
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
    }
}
