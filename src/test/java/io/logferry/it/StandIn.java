package io.logferry.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A loopback HTTP server that stands in for a service the tests cannot run here (Kibana; an
 * Elasticsearch that accepts API keys): it records every request (method, path with query,
 * headers, body) and answers with what the test's handler returns.
 */
public final class StandIn implements AutoCloseable {
    /** A recorded request. Header names are lower case. */
    public record Call(String method, String path, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase());
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** What to answer. */
    public record Reply(int status, String body) { }

    private final HttpServer server;
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    public StandIn(Function<Call, Reply> handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", ex -> {
            try (ex) {
                Call c = call(ex);
                calls.add(c);
                Reply r = handler.apply(c);
                byte[] b = r.body().getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/json");
                if (c.method().equals("HEAD")) {
                    ex.sendResponseHeaders(r.status(), -1);
                    return;
                }
                ex.sendResponseHeaders(r.status(), b.length == 0 ? -1 : b.length);
                if (b.length > 0) {
                    try (OutputStream o = ex.getResponseBody()) {
                        o.write(b);
                    }
                }
            }
        });
        server.start();
    }

    private static Call call(HttpExchange ex) throws IOException {
        Map<String, String> headers = new java.util.TreeMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), String.join(",", v)));
        byte[] body = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getRawPath() + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
        return new Call(ex.getRequestMethod(), path, Map.copyOf(headers), body);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
