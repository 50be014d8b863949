package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A small client for what tests ask the real Elasticsearch: counts and every document of an index. */
public final class Es {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public Es(String url) {
        this.url = url;
    }

    public JsonNode request(String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json");
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode n = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
            if (n instanceof ObjectNode o) {
                o.put("_status", r.statusCode());
            }
            return n;
        } catch (IOException e) {
            throw new IllegalStateException("elasticsearch " + method + " " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The number of documents in {@code index}; 0 when it does not exist yet. Refreshes first. */
    public long count(String index) {
        request("POST", "/" + index + "/_refresh", null);
        JsonNode n = request("GET", "/" + index + "/_count", null);
        return n.path("count").asLong(0);
    }

    /** Every document's _source (the fields given), in a stable order, with search_after paging. */
    public List<JsonNode> all(String index, String... fields) {
        request("POST", "/" + index + "/_refresh", null);
        List<JsonNode> out = new ArrayList<>();
        JsonNode after = null;
        while (true) {
            ObjectNode q = JSON.createObjectNode();
            q.put("size", 5000);
            ArrayNode src = q.putArray("_source");
            for (String f : fields) {
                src.add(f);
            }
            ArrayNode sort = q.putArray("sort");
            sort.addObject().put("@timestamp", "asc");
            sort.addObject().put("container.id", "asc");
            sort.addObject().put("log.offset", "asc");
            if (after != null) {
                q.set("search_after", after);
            }
            JsonNode r = request("POST", "/" + index + "/_search", q.toString());
            JsonNode hits = r.path("hits").path("hits");
            if (!hits.isArray() || hits.isEmpty()) {
                return out;
            }
            for (JsonNode h : hits) {
                ObjectNode doc = (ObjectNode) h.get("_source");
                doc.put("_id", h.get("_id").asText());
                out.add(doc);
                after = h.get("sort");
            }
        }
    }

    public String url() {
        return url;
    }
}
