package io.logferry.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.github.resilience4j.core.IntervalFunction;
import io.logferry.config.Config;
import io.logferry.event.JsonOut;
import io.logferry.event.LogEvent;
import io.logferry.metrics.Metrics;
import io.logferry.pipeline.Output;
import org.apache.http.entity.ByteArrayEntity;
import org.apache.http.entity.ContentType;
import org.apache.http.util.EntityUtils;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends batches with {@code _bulk} and sorts every item with {@link BulkOutcome}: delivered items
 * are acknowledged, refused documents go to the dead-letter data stream, and the rest are retried
 * with exponential backoff and jitter, without limit, failed items only. A 413 splits the batch.
 */
public final class ElasticsearchOutput implements Output {
    private static final Logger log = LoggerFactory.getLogger(ElasticsearchOutput.class);
    private static final JsonFactory JSON = new JsonFactory();
    private static final ContentType NDJSON = ContentType.create("application/x-ndjson", StandardCharsets.UTF_8);
    private static final int MAX_ORIGINAL = 32 * 1024;

    private final RestClient client;
    private final Config.Elasticsearch config;
    private final Metrics metrics;
    private final IntervalFunction backoff;
    private final LongAdder acked;
    private final LongAdder duplicates;
    private final LongAdder retried;
    private final LongAdder deadLettered;
    private final LongAdder failedRequests;
    private final LongAdder dropped;
    private volatile String problem;

    public ElasticsearchOutput(RestClient client, Config.Elasticsearch config, Metrics metrics) {
        this.client = client;
        this.config = config;
        this.metrics = metrics;
        this.backoff = IntervalFunction.ofExponentialRandomBackoff(config.backoffInitial(), 2.0, 0.5, config.backoffMax());
        this.acked = metrics.counter("logferry_events_acked_total", "Events acknowledged by the output");
        this.duplicates = metrics.counter("logferry_events_duplicate_total", "Events Elasticsearch already had (409 on create): replays absorbed by the _id");
        this.retried = metrics.counter("logferry_events_retried_total", "Event deliveries retried (429, 5xx, blocks, failed requests)");
        this.deadLettered = metrics.counter("logferry_events_dead_lettered_total", "Events Elasticsearch refused, written to the dead-letter data stream");
        this.failedRequests = metrics.counter("logferry_bulk_requests_failed_total", "Bulk requests that got no usable response");
        this.dropped = metrics.counter("logferry_events_dropped_total", "Events dropped", "reason", "dead_letter_refused");
    }

    @Override
    public String problem() {
        return problem;
    }

    @Override
    public void deliver(List<LogEvent> batch) throws InterruptedException {
        List<LogEvent> pending = batch;
        int attempt = 0;
        while (!pending.isEmpty()) {
            if (attempt > 0) {
                long wait = backoff.apply(Math.min(attempt, 30));
                retried.add(pending.size());
                Thread.sleep(wait);
            }
            attempt++;
            List<Result> results;
            try {
                results = send(pending);
                problem = null;
            } catch (RequestFailure f) {
                failedRequests.increment();
                problem = f.getMessage();
                if (BulkOutcome.request(f.status) == BulkOutcome.Request.SPLIT && f.status != 0) {
                    if (pending.size() == 1) {
                        deadLetter(List.of(new Failed(pending.get(0), f.status, "request_refused", f.getMessage())));
                        return;
                    }
                    int half = pending.size() / 2;
                    log.warn("elasticsearch answered {} to a bulk request of {} events; splitting it", f.status, pending.size());
                    deliver(new ArrayList<>(pending.subList(0, half)));
                    deliver(new ArrayList<>(pending.subList(half, pending.size())));
                    return;
                }
                if (attempt == 1 || attempt % 10 == 0) {
                    log.warn("bulk request of {} events failed ({}); retrying with backoff, attempt {}", pending.size(), f.getMessage(), attempt);
                }
                continue;
            }
            List<LogEvent> retry = new ArrayList<>();
            List<Failed> refused = new ArrayList<>();
            int delivered = 0;
            String firstRetry = null;
            for (int i = 0; i < pending.size(); i++) {
                Result r = results.get(i);
                LogEvent e = pending.get(i);
                switch (BulkOutcome.item(r.status, r.type)) {
                    case DELIVERED -> {
                        if (r.status == 409) {
                            duplicates.increment();
                        }
                        e.ack();
                        delivered++;
                    }
                    case RETRY, BLOCKED -> {
                        retry.add(e);
                        if (firstRetry == null) {
                            firstRetry = r.status + " " + r.type + ": " + r.reason;
                        }
                    }
                    case DEAD_LETTER -> refused.add(new Failed(e, r.status, r.type, r.reason));
                }
            }
            acked.add(delivered);
            if (!refused.isEmpty()) {
                deadLetter(refused);
            }
            if (!retry.isEmpty() && (attempt == 1 || attempt % 10 == 0)) {
                log.warn("{} of {} bulk items must be retried (first: {}); attempt {}", retry.size(), pending.size(), firstRetry, attempt);
            }
            pending = retry;
        }
    }

    private record Result(int status, String type, String reason) { }

    private record Failed(LogEvent event, int status, String type, String reason) { }

    private static final class RequestFailure extends Exception {
        final int status;

        RequestFailure(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private List<Result> send(List<LogEvent> events) throws RequestFailure {
        int size = 0;
        for (LogEvent e : events) {
            size += e.size();
        }
        byte[] body = new byte[size];
        int p = 0;
        for (LogEvent e : events) {
            System.arraycopy(e.payload(), 0, body, p, e.size());
            p += e.size();
        }
        return sendBody(body, events.size());
    }

    private List<Result> sendBody(byte[] body, int count) throws RequestFailure {
        Request req = new Request("POST", "/_bulk");
        req.addParameter("filter_path", "errors,items.*.status,items.*.error.type,items.*.error.reason");
        req.setEntity(new ByteArrayEntity(body, NDJSON));
        long t0 = System.nanoTime();
        Response resp;
        try {
            resp = client.performRequest(req);
        } catch (ResponseException re) {
            int status = re.getResponse().getStatusLine().getStatusCode();
            throw new RequestFailure(status, "HTTP " + status + " from " + re.getResponse().getHost() + ": " + firstLine(re.getMessage()));
        } catch (IOException io) {
            throw new RequestFailure(0, io.getClass().getSimpleName() + ": " + io.getMessage());
        } finally {
            metrics.bulkLatency().observe((System.nanoTime() - t0) / 1e9);
        }
        try {
            byte[] bytes = EntityUtils.toByteArray(resp.getEntity());
            List<Result> results = parse(bytes);
            if (results.size() != count) {
                throw new RequestFailure(0, "the bulk response has " + results.size() + " items for " + count + " actions");
            }
            return results;
        } catch (IOException io) {
            throw new RequestFailure(0, "unreadable bulk response: " + io.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        String[] lines = s.split("\n");
        return lines[lines.length - 1].length() > 300 ? lines[lines.length - 1].substring(0, 300) : lines[lines.length - 1];
    }

    /** Reads {@code {"errors":..,"items":[{"create":{"status":..,"error":{"type":..,"reason":..}}},..]}}. */
    static List<Result> parse(byte[] body) throws IOException {
        List<Result> out = new ArrayList<>();
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals("items") && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        p.nextToken();           // the action name
                        p.nextToken();           // its object
                        int status = 0;
                        String type = null;
                        String reason = null;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String f = p.currentName();
                            p.nextToken();
                            if (f.equals("status")) {
                                status = p.getIntValue();
                            } else if (f.equals("error") && p.currentToken() == JsonToken.START_OBJECT) {
                                while (p.nextToken() == JsonToken.FIELD_NAME) {
                                    String ef = p.currentName();
                                    p.nextToken();
                                    if (ef.equals("type")) {
                                        type = p.getText();
                                    } else if (ef.equals("reason")) {
                                        reason = p.getText();
                                    } else {
                                        p.skipChildren();
                                    }
                                }
                            } else {
                                p.skipChildren();
                            }
                        }
                        p.nextToken();           // end of the item
                        out.add(new Result(status, type, reason));
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        return out;
    }

    /**
     * Writes refused documents to the dead-letter data stream with the original and the error.
     * Retried like any delivery; a dead-letter document that is itself refused is dropped and
     * counted, since nothing else could hold it.
     */
    private void deadLetter(List<Failed> failed) throws InterruptedException {
        JsonOut o = new JsonOut(4096);
        for (Failed f : failed) {
            LogEvent e = f.event();
            String original = new String(e.payload(), e.documentStart(), e.size() - e.documentStart() - 1, StandardCharsets.UTF_8);
            String action = new String(e.payload(), 0, e.documentStart(), StandardCharsets.UTF_8);
            int idAt = action.indexOf("\"_id\":\"");
            String id = idAt < 0 ? null : action.substring(idAt + 7, action.indexOf('"', idAt + 7));
            o.ascii("{\"create\":{\"_index\":").string(config.deadLetter());
            if (id != null) {
                o.ascii(",\"_id\":").string(id);
            }
            o.ascii("}}\n{\"@timestamp\":").string(Instant.now().toString())
                    .ascii(",\"message\":").string(f.reason() == null ? "refused" : f.reason())
                    .ascii(",\"error\":{\"type\":").string(String.valueOf(f.type())).ascii(",\"message\":").string(String.valueOf(f.reason()))
                    .ascii("},\"http\":{\"response\":{\"status_code\":").number(f.status())
                    .ascii("}},\"event\":{\"original\":").string(original.length() > MAX_ORIGINAL ? original.substring(0, MAX_ORIGINAL) : original)
                    .ascii(",\"dataset\":\"logferry.deadletter\"},\"data_stream\":{\"type\":\"logs\",\"dataset\":\"logferry.deadletter\",\"namespace\":\"default\"}}\n");
            log.warn("elasticsearch refused a document ({} {}: {}); it goes to {}", f.status(), f.type(), f.reason(), config.deadLetter());
        }
        byte[] body = o.toBytes();
        int attempt = 0;
        while (true) {
            if (attempt > 0) {
                Thread.sleep(backoff.apply(Math.min(attempt, 30)));
            }
            attempt++;
            try {
                List<Result> results = sendBody(body, failed.size());
                boolean again = false;
                for (int i = 0; i < results.size(); i++) {
                    BulkOutcome.Item d = BulkOutcome.item(results.get(i).status, results.get(i).type);
                    if (d == BulkOutcome.Item.RETRY || d == BulkOutcome.Item.BLOCKED) {
                        again = true;
                    } else if (d == BulkOutcome.Item.DEAD_LETTER) {
                        dropped.increment();
                        log.error("the dead-letter stream {} refused a document too ({}); it is dropped", config.deadLetter(), results.get(i).reason);
                    }
                }
                if (!again) {
                    break;
                }
            } catch (RequestFailure rf) {
                log.warn("dead-letter request failed ({}); retrying", rf.getMessage());
            }
        }
        for (Failed f : failed) {
            f.event().ack();
        }
        deadLettered.add(failed.size());
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            log.debug("closing the elasticsearch client", e);
        }
    }
}
