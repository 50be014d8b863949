package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback HTTP proxy in front of a real Elasticsearch that injects overload: every
 * {@code every503}-th bulk request is answered 503 without being forwarded, and of the bulk
 * requests that are forwarded, every {@code every429}-th item that Elasticsearch accepted is
 * reported back as 429 (the document is in the index all the same, so the agent's retry meets a
 * 409: the case where a response is lost after the write). Everything else passes unchanged.
 *
 * <p>With {@link #forbid}, the bulk items aimed at one index are taken out of the request before it
 * is forwarded (Elasticsearch never sees them) and answered 403 {@code security_exception}, as
 * Elasticsearch answers a user without the privilege to write there.
 */
final class FaultProxy implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> HOP = Set.of("connection", "content-length", "host", "transfer-encoding", "expect", "upgrade",
            "keep-alive", "te", "trailer", "proxy-connection");

    private final String target;
    private final int every503;
    private final int every429;
    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    final AtomicLong bulkRequests = new AtomicLong();
    final AtomicLong answered503 = new AtomicLong();
    final AtomicLong items = new AtomicLong();
    final AtomicLong rewritten429 = new AtomicLong();
    final AtomicLong forbidden = new AtomicLong();
    private volatile String forbiddenIndex;
    private volatile boolean holding;
    final AtomicLong held = new AtomicLong();
    private volatile String prefix = "";
    final AtomicLong outsidePrefix = new AtomicLong();

    FaultProxy(String target, int every503, int every429) throws IOException {
        this.target = target;
        this.every503 = every503;
        this.every429 = every429;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(pool);
        server.start();
    }

    /**
     * A gateway in front of Elasticsearch at {@code prefix} ({@code /elastic}): only requests under it are
     * forwarded, without it; others are answered 404 and counted in {@link #outsidePrefix}.
     */
    FaultProxy under(String prefix) {
        this.prefix = prefix;
        return this;
    }

    /**
     * While {@code on}, every bulk request is answered 503 without being forwarded (Elasticsearch overloaded): nothing is
     * acknowledged, the agent retries; everything else (templates, health) passes.
     */
    FaultProxy holdBulk(boolean on) {
        holding = on;
        return this;
    }

    /** Answer 403 for every bulk item whose {@code _index} is {@code index} (null: none). */
    FaultProxy forbid(String index) {
        forbiddenIndex = index;
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getRawPath();
            String gateway = prefix;
            if (!gateway.isEmpty()) {
                if (!path.startsWith(gateway + "/")) {
                    outsidePrefix.incrementAndGet();
                    reply(ex, 404, ("{\"error\":\"not under " + gateway + "\",\"status\":404}").getBytes(StandardCharsets.UTF_8));
                    return;
                }
                path = path.substring(gateway.length());
            }
            boolean bulk = ex.getRequestMethod().equals("POST") && path.endsWith("/_bulk");
            if (bulk && holding) {
                held.incrementAndGet();
                reply(ex, 503, "{\"error\":{\"type\":\"unavailable\",\"reason\":\"held back by the test proxy\"},\"status\":503}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (bulk && bulkRequests.incrementAndGet() % every503 == 0) {
                answered503.incrementAndGet();
                reply(ex, 503, "{\"error\":{\"type\":\"unavailable\",\"reason\":\"injected by the test proxy\"},\"status\":503}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            boolean[] refused = null;
            String forbid = forbiddenIndex;
            if (bulk && forbid != null) {
                String[] lines = new String(body, StandardCharsets.UTF_8).split("\n");
                refused = new boolean[lines.length / 2];
                StringBuilder kept = new StringBuilder();
                int keptItems = 0;
                for (int i = 0; i + 1 < lines.length; i += 2) {
                    JsonNode action = JSON.readTree(lines[i]).elements().next();
                    if (action.path("_index").asText().equals(forbid)) {
                        refused[i / 2] = true;
                    } else {
                        kept.append(lines[i]).append('\n').append(lines[i + 1]).append('\n');
                        keptItems++;
                    }
                }
                if (keptItems == 0) {
                    reply(ex, 200, merge(null, refused, forbid));
                    return;
                }
                body = kept.toString().getBytes(StandardCharsets.UTF_8);
            }
            String query = ex.getRequestURI().getRawQuery();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + path + (query == null ? "" : "?" + query)))
                    .timeout(Duration.ofSeconds(90))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((k, vs) -> {
                if (!HOP.contains(k.toLowerCase())) {
                    vs.forEach(v -> b.header(k, v));
                }
            });
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            byte[] out = r.body();
            if (bulk && r.statusCode() == 200) {
                out = rewrite(out);
                if (refused != null) {
                    out = merge(out, refused, forbid);
                }
            }
            r.headers().map().forEach((k, vs) -> {
                if (!HOP.contains(k.toLowerCase()) && !k.startsWith(":")) {
                    vs.forEach(v -> ex.getResponseHeaders().add(k, v));
                }
            });
            reply(ex, r.statusCode(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            reply(ex, 502, ("{\"error\":\"proxy: " + e.getMessage() + "\"}").getBytes(StandardCharsets.UTF_8));
        }
    }

    private byte[] rewrite(byte[] response) throws IOException {
        JsonNode root = JSON.readTree(response);
        boolean changed = false;
        for (JsonNode item : root.path("items")) {
            JsonNode action = item.elements().next();
            if (action instanceof ObjectNode o && items.incrementAndGet() % every429 == 0 && o.path("status").asInt() < 300) {
                o.put("status", 429);
                ObjectNode err = o.putObject("error");
                err.put("type", "es_rejected_execution_exception");
                err.put("reason", "rejected execution (injected by the test proxy)");
                rewritten429.incrementAndGet();
                changed = true;
            }
        }
        if (!changed) {
            return response;
        }
        ((ObjectNode) root).put("errors", true);
        return JSON.writeValueAsBytes(root);
    }

    /** The forwarded items' answers with a 403 put back in every refused item's place. */
    private byte[] merge(byte[] response, boolean[] refused, String index) throws IOException {
        ObjectNode root = response == null ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(response);
        JsonNode forwarded = root.path("items");
        com.fasterxml.jackson.databind.node.ArrayNode items = JSON.createArrayNode();
        int next = 0;
        for (boolean r : refused) {
            if (r) {
                ObjectNode create = items.addObject().putObject("create");
                create.put("_index", index);
                create.put("status", 403);
                ObjectNode err = create.putObject("error");
                err.put("type", "security_exception");
                err.put("reason", "action [indices:data/write/bulk[s]] is unauthorized for user [test] on indices [" + index
                        + "] (injected by the test proxy)");
                forbidden.incrementAndGet();
            } else {
                items.add(forwarded.get(next++));
            }
        }
        root.put("errors", true);
        root.set("items", items);
        return JSON.writeValueAsBytes(root);
    }

    private static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            ex.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
