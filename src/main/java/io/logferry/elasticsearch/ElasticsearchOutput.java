package io.logferry.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.github.resilience4j.core.IntervalFunction;
import io.logferry.config.Config;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.Cursor;
import io.logferry.model.DataStream;
import io.logferry.model.LogEvent;
import io.logferry.pipeline.Output;
import org.apache.http.entity.ContentType;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sends batches with {@code _bulk} and sorts every item with {@link BulkOutcome}. Each item ends
 * in exactly one of three ways, and every one of them acknowledges it, so that no item can hold
 * back the registry of its container:
 *
 * <pre>
 *   batch ──► [breaker: wait while the cluster is down, one probe at a time] ──► _bulk
 *     ├─ no usable response (connection, timeout, 429/5xx, cluster block) → the whole request again, with backoff
 *     ├─ 400/413 for the whole request → split in halves (one event left: dead-letter it)
 *     └─ per item:  delivered (2xx, 409)                      → ack
 *                   429, 5xx, 403 block                      → again, failed items only, with backoff
 *                   refused (mapping conflict, other 4xx,    → becomes a dead-letter document (with the
 *                            401/403 without privilege)        status, error and original index), sent
 *                                                              with the next request; ack when the
 *                                                              dead-letter stream holds it
 *                   dead-letter document refused too         → dropped, counted and logged with its
 *                   (any 4xx, 401/403 included)                container and offsets; ack
 * </pre>
 *
 * Retries use exponential backoff with jitter ({@code elasticsearch.backoff}) and no limit. A dead
 * letter rides in the same retry loop as the rest of its batch: it never blocks the other items,
 * and a dead-letter stream that refuses it cannot stall the pipeline.
 */
public final class ElasticsearchOutput implements Output {
    private static final Logger log = LoggerFactory.getLogger(ElasticsearchOutput.class);
    private static final JsonFactory JSON = new JsonFactory();
    private static final ContentType NDJSON = ContentType.create("application/x-ndjson", StandardCharsets.UTF_8);
    /** What a response must tell: its status and error per item, in order. */
    private static final String FILTER = "errors,items.*.status,items.*.error.type,items.*.error.reason";
    /** ... and the index of each item, while blocks are watched: to see which one is blocked and when it is lifted. */
    private static final String FILTER_WITH_INDEX = FILTER + ",items.*._index";
    private static final int MAX_ORIGINAL = 32 * 1024;
    private static final String CLUSTER = "the cluster";
    private static final Pattern BACKING_INDEX = Pattern.compile("^\\.ds-(.+)-\\d{4}\\.\\d{2}\\.\\d{2}-\\d+$");
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final RestClient client;
    private final Config.Elasticsearch config;
    private final Metrics metrics;
    private final IntervalFunction backoff;
    private final Breaker breaker;
    private final LongAdder acked;
    private final LongAdder duplicates;
    private final LongAdder retried;
    private final LongAdder blocked;
    private final LongAdder deadLettered;
    private final LongAdder failedRequests;
    private final LongAdder dropped;
    private final LongAdder forbidden;
    private final LongAdder droppedForbidden;
    /** Data streams whose 401/403 was logged: once per stream, not per document; bounded (labels choose streams). */
    private final Set<String> forbiddenLogged = ConcurrentHashMap.newKeySet();
    static final int FORBIDDEN_LOGGED_MAX = 1000;
    /** Index (or {@link #CLUSTER}) → when a block on it was first seen; for the log lines only. */
    private final Map<String, Long> blockedSince = new ConcurrentHashMap<>();
    /** A blocked item came back without its index (it was not asked for): ask for it until blocks are gone. */
    private volatile boolean indexWanted;
    private final AtomicLong lastBlockLog = new AtomicLong();
    private final AtomicLong lastLetterLog = new AtomicLong();
    private final LongAdder lettersNotLogged = new LongAdder();
    private final String letterDataset;
    private final String letterNamespace;
    private volatile String problem;

    public ElasticsearchOutput(RestClient client, Config.Elasticsearch config, Metrics metrics) {
        this.client = client;
        this.config = config;
        this.metrics = metrics;
        this.backoff = IntervalFunction.ofExponentialRandomBackoff(config.backoffInitial(), 2.0, 0.5, config.backoffMax());
        this.breaker = new Breaker(config.backoffInitial(), config.backoffMax(), config.timeout(), metrics);
        this.acked = metrics.counter(Metric.EVENTS_ACKED);
        this.duplicates = metrics.counter(Metric.EVENTS_DUPLICATE);
        this.retried = metrics.counter(Metric.EVENTS_RETRIED);
        this.blocked = metrics.counter(Metric.EVENTS_BLOCKED);
        this.deadLettered = metrics.counter(Metric.EVENTS_DEAD_LETTERED);
        this.failedRequests = metrics.counter(Metric.BULK_REQUESTS_FAILED);
        this.dropped = metrics.counter(Metric.EVENTS_DROPPED, "reason", "dead_letter_refused");
        this.droppedForbidden = metrics.counter(Metric.EVENTS_DROPPED, "reason", "dead_letter_forbidden");
        this.forbidden = metrics.counter(Metric.EVENTS_FORBIDDEN);
        // logs-<dataset>-<namespace>: the data_stream fields of a dead letter name the stream it goes to
        DataStream letters = DataStream.parse(config.deadLetter()).orElse(DataStream.logs("logferry.deadletter", "default"));
        this.letterDataset = letters.dataset();
        this.letterNamespace = letters.namespace();
    }

    @Override
    public String problem() {
        String p = problem;
        if (p != null && breaker.open()) {
            return p + " (circuit breaker open: probing)";
        }
        return p;
    }

    @Override
    public void deliver(List<LogEvent> batch) throws InterruptedException {
        deliver(batch, new IdentityHashMap<>());
    }

    /**
     * @param letters the events of this batch that Elasticsearch refused, with the dead-letter
     *                document that replaces them in the next requests
     */
    private void deliver(List<LogEvent> batch, Map<LogEvent, byte[]> letters) throws InterruptedException {
        List<LogEvent> pending = batch;
        int round = 0;
        int again = 0;
        while (!pending.isEmpty()) {
            if (again > 0) {
                round++;
                retried.add(again);
                if (!breaker.open()) {
                    // while the breaker is open, its wait is the backoff
                    Thread.sleep(backoff.apply(Math.min(round, 30)));
                }
            }
            again = 0;
            Breaker.Permit permit = breaker.enter();
            long sentAt = System.nanoTime();
            boolean watchBlocks = indexWanted || !blockedSince.isEmpty();
            List<Result> results;
            try {
                results = send(pending, letters, watchBlocks);
                permit.succeeded();
                problem = null;
            } catch (RequestFailure f) {
                failedRequests.increment();
                if (f.splits()) {
                    permit.succeeded();
                    if (pending.size() > 1) {
                        int half = pending.size() / 2;
                        log.warn("elasticsearch answered {} to a bulk request of {} events; splitting it", f.status, pending.size());
                        deliver(new ArrayList<>(pending.subList(0, half)), letters);
                        deliver(new ArrayList<>(pending.subList(half, pending.size())), letters);
                        return;
                    }
                    LogEvent e = pending.get(0);
                    List<LogEvent> lost = new ArrayList<>(1);
                    if (!refused(e, f.status, "request_refused", f.getMessage(), letters, false, lost)) {
                        logLosses(lost, f.status, "request_refused", f.getMessage());
                        return;
                    }
                    continue;
                }
                permit.failed(f);
                problem = f.getMessage();
                if (f.status == 403 && f.getMessage().contains("block")) {
                    blocked.add(pending.size());
                    noteBlocked(CLUSTER, f.getMessage(), pending.size());
                } else if (round == 0 || round % 10 == 9) {
                    log.warn("bulk request of {} events failed ({}); retrying with backoff, attempt {}", pending.size(), f.getMessage(), round + 1);
                }
                again = pending.size();
                continue;
            } catch (InterruptedException | RuntimeException e) {
                permit.abandoned();
                throw e;
            }
            if (watchBlocks) {
                noteUnblocked(CLUSTER, sentAt);
            }
            List<LogEvent> next = new ArrayList<>();
            List<LogEvent> done = new ArrayList<>(pending.size());
            int delivered = 0;
            String firstRetry = null;
            Map<String, String> blockedNow = null;
            Set<String> deliveredTo = null;
            List<LogEvent> lost = new ArrayList<>(0);
            String lostWhy = null;
            for (int i = 0; i < pending.size(); i++) {
                Result r = results == null ? CREATED : results.get(i);
                LogEvent e = pending.get(i);
                switch (BulkOutcome.item(r.status, r.type)) {
                    case DELIVERED -> {
                        if (!letters.isEmpty() && letters.remove(e) != null) {   // isEmpty: no identity hash per event
                            deadLettered.increment();
                        } else {
                            if (r.status == 409) {
                                duplicates.increment();
                            }
                            delivered++;
                            if (watchBlocks && r.index != null) {
                                if (deliveredTo == null) {
                                    deliveredTo = new HashSet<>();
                                }
                                deliveredTo.add(dataStream(r.index));
                            }
                        }
                        done.add(e);
                    }
                    case RETRY -> {
                        next.add(e);
                        again++;
                        if (firstRetry == null) {
                            firstRetry = r.status + " " + r.type + ": " + r.reason;
                        }
                    }
                    case BLOCKED -> {
                        next.add(e);
                        again++;
                        blocked.increment();
                        if (r.index == null) {
                            indexWanted = true;          // named when the retry answers
                        } else {
                            if (blockedNow == null) {
                                blockedNow = new HashMap<>();
                            }
                            blockedNow.putIfAbsent(dataStream(r.index), r.status + " " + r.type + ": " + r.reason);
                        }
                    }
                    case DEAD_LETTER -> {
                        if (refused(e, r.status, r.type, r.reason, letters, false, lost)) {
                            next.add(e);
                        } else if (lostWhy == null) {
                            lostWhy = r.status + " " + r.type + ": " + r.reason;
                        }
                    }
                    case FORBIDDEN -> {
                        if (refused(e, r.status, r.type, r.reason, letters, true, lost)) {
                            next.add(e);
                        } else if (lostWhy == null) {
                            lostWhy = r.status + " " + r.type + ": " + r.reason;
                        }
                    }
                }
            }
            LogEvent.ackAll(done);
            if (!lost.isEmpty()) {
                logLosses(lost, lostWhy);
            }
            acked.add(delivered);
            if (watchBlocks && blockedNow == null && blockedSince.isEmpty()) {
                indexWanted = false;
            }
            if (blockedNow != null) {
                for (Map.Entry<String, String> b : blockedNow.entrySet()) {
                    noteBlocked(b.getKey(), b.getValue(), again);
                }
            }
            if (deliveredTo != null) {
                for (String stream : deliveredTo) {
                    if (blockedNow == null || !blockedNow.containsKey(stream)) {
                        noteUnblocked(stream, sentAt);
                    }
                }
            }
            if (firstRetry != null && (round == 0 || round % 10 == 9)) {
                log.warn("{} of {} bulk items must be retried (first: {}); attempt {}", again, pending.size(), firstRetry, round + 1);
            }
            pending = next;
        }
    }

    /**
     * Elasticsearch refused {@code e}. The first time, it becomes a dead-letter document (true: send
     * it again); when the dead-letter document is refused too, it is dropped, counted and logged,
     * and acknowledged so that its container's offsets move on (false).
     */
    private boolean refused(LogEvent e, int status, String type, String reason, Map<LogEvent, byte[]> letters, boolean noPrivilege,
                            List<LogEvent> lost) {
        if (letters.remove(e) == null) {
            String index = originalIndex(e);
            letters.put(e, letter(e, status, type, reason, index));
            if (noPrivilege) {
                forbidden.increment();
                String stream = index == null ? "?" : index;
                if (forbiddenLogged.size() < FORBIDDEN_LOGGED_MAX && forbiddenLogged.add(stream)) {
                    log.warn("elasticsearch does not allow writing to {} ({} {}: {}); its documents go to {} with the error, "
                            + "counted in logferry_events_forbidden_total, and are not retried: grant the privilege to write "
                            + "there, or change the container's logferry.dataset / logferry.namespace (logged once per stream)",
                            stream, status, type, reason, config.deadLetter());
                }
                return true;
            }
            long now = System.nanoTime();
            long last = lastLetterLog.get();
            if (now - last > TimeUnit.SECONDS.toNanos(10) && lastLetterLog.compareAndSet(last, now)) {
                long more = lettersNotLogged.sumThenReset();
                log.warn("elasticsearch refused a document of container {} ({} {}: {}); it goes to {} with the error and the original{}",
                        shortId(e), status, type, reason, config.deadLetter(), more == 0 ? "" : " (and " + more + " more since the last such line)");
            } else {
                lettersNotLogged.increment();
            }
            return true;
        }
        if (status == 401 || status == 403) {
            droppedForbidden.increment();
        } else {
            dropped.increment();
        }
        lost.add(e);
        e.ack();
        return false;
    }

    private void logLosses(List<LogEvent> lost, int status, String type, String reason) {
        logLosses(lost, status + " " + type + ": " + reason);
    }

    /**
     * One line per container and file for the documents of one response that the dead-letter
     * stream refused too (not one per document: a stream without privilege refuses them all),
     * with the offsets of the first and the last entry lost.
     */
    private void logLosses(List<LogEvent> lost, String why) {
        Map<String, long[]> byFile = new java.util.LinkedHashMap<>();
        for (LogEvent e : lost) {
            Cursor c = e.commit();
            String key = shortId(e) + ", file " + (c == null ? "?" : c.fileId());
            long off = c == null ? -1 : c.offset();
            long[] r = byFile.computeIfAbsent(key, k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0});
            r[0] = Math.min(r[0], off);
            r[1] = Math.max(r[1], off);
            r[2]++;
        }
        for (Map.Entry<String, long[]> f : byFile.entrySet()) {
            long[] r = f.getValue();
            log.error("the dead-letter stream {} refused {} too ({}); {} lost: container {}, {}",
                    config.deadLetter(), r[2] == 1 ? "a document" : r[2] + " documents", why, r[2] == 1 ? "it is" : "they are",
                    f.getKey(), r[2] == 1 ? "entry ending at offset " + r[0] : "entries ending at offsets " + r[0] + " to " + r[1]);
        }
    }

    /** The {@code _index} of the event's action line, as the document builder wrote it; null if it has none. */
    static String originalIndex(LogEvent e) {
        byte[] p = e.payload();
        String action = new String(p, 0, Math.min(e.documentStart(), p.length), StandardCharsets.UTF_8);
        int at = action.indexOf("\"_index\":\"");
        if (at < 0) {
            return null;
        }
        int end = action.indexOf('"', at + 10);
        return end < 0 ? null : action.substring(at + 10, end);
    }

    private static String shortId(LogEvent e) {
        String id = e.tracker().containerId();
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /**
     * Elasticsearch names the data stream in an item that failed and the backing index in one
     * that succeeded: {@code .ds-<stream>-<yyyy.MM.dd>-<generation>} is brought back to the stream.
     */
    static String dataStream(String index) {
        Matcher m = BACKING_INDEX.matcher(index);
        return m.matches() ? m.group(1) : index;
    }

    private void noteBlocked(String index, String why, int held) {
        long now = System.nanoTime();
        Long since = blockedSince.putIfAbsent(index, now);
        if (since == null) {
            lastBlockLog.set(now);
            log.warn("elasticsearch {} {} ({}); delivery to it is paused: events are held and retried with backoff until "
                    + "that changes, none is dropped", why.contains("block") ? "blocks writes to" : "does not allow writes to", index, why);
        } else {
            long last = lastBlockLog.get();
            if (now - last > LOG_EVERY_NANOS && lastBlockLog.compareAndSet(last, now)) {
                log.warn("writes to {} still blocked after {} s ({}); {} events held in this request", index,
                        TimeUnit.NANOSECONDS.toSeconds(now - since), why, held);
            }
        }
    }

    /** A request sent after the block was seen delivered to {@code index}: the block is gone. */
    private void noteUnblocked(String index, long sentAt) {
        Long since = blockedSince.get(index);
        if (since != null && sentAt - since > 0 && blockedSince.remove(index, since)) {
            log.info("the block on {} is lifted after {} s; held events are being delivered", index,
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since));
        }
    }

    record Result(int status, String type, String reason, String index) { }

    /** Every item of a response that says {@code "errors":false}: with {@code create}, each one is a 201. */
    private static final Result CREATED = new Result(201, null, null, null);

    private static final class RequestFailure extends Exception {
        final int status;

        RequestFailure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        /** 400/413 for the whole request: it is the request, not the cluster; its halves may pass. */
        boolean splits() {
            return status != 0 && BulkOutcome.request(status) == BulkOutcome.Request.SPLIT;
        }
    }

    private List<Result> send(List<LogEvent> events, Map<LogEvent, byte[]> letters, boolean withIndex)
            throws RequestFailure, InterruptedException {
        int count = events.size();
        byte[][] parts = new byte[2 * count][];
        int n = 0;
        for (LogEvent e : events) {
            byte[] l = letters.isEmpty() ? null : letters.get(e);
            if (l != null) {
                parts[n++] = l;
            } else {
                parts[n++] = e.head();
                if (e.tail() != null) {
                    parts[n++] = e.tail();
                }
            }
        }
        if (n < parts.length) {
            parts = java.util.Arrays.copyOf(parts, n);
        }
        Request req = new Request("POST", "/_bulk");
        req.addParameter("filter_path", withIndex ? FILTER_WITH_INDEX : FILTER);
        req.setEntity(new BulkBody(parts, NDJSON));
        long t0 = System.nanoTime();
        Response resp;
        try {
            resp = client.performRequest(req);
        } catch (ResponseException re) {
            int status = re.getResponse().getStatusLine().getStatusCode();
            throw new RequestFailure(status, "HTTP " + status + " from " + re.getResponse().getHost() + ": " + lastLine(re.getMessage()));
        } catch (IOException io) {
            throw new RequestFailure(0, io.getClass().getSimpleName() + ": " + io.getMessage());
        } catch (RuntimeException rt) {
            if (Thread.interrupted()) {
                // the low-level client wraps an interrupt in a RuntimeException and sets the flag again
                throw new InterruptedException("interrupted while waiting for a bulk response");
            }
            throw rt;
        } finally {
            metrics.bulkLatency().observe((System.nanoTime() - t0) / 1e9);
        }
        try (InputStream in = resp.getEntity().getContent()) {
            List<Result> results = parse(in, withIndex);
            if (results != null && results.size() != count) {
                throw new RequestFailure(0, "the bulk response has " + results.size() + " items for " + count + " actions");
            }
            return results;
        } catch (IOException io) {
            throw new RequestFailure(0, "unreadable bulk response: " + io.getMessage());
        }
    }

    private static String lastLine(String s) {
        if (s == null) {
            return "";
        }
        String[] lines = s.split("\n");
        String last = lines[lines.length - 1];
        return last.length() > 300 ? last.substring(0, 300) : last;
    }

    /** Reads {@code {"errors":..,"items":[{"create":{"_index":..,"status":..,"error":{"type":..,"reason":..}}},..]}}. */
    static List<Result> parse(byte[] body) throws IOException {
        return parse(new java.io.ByteArrayInputStream(body), true);
    }

    /**
     * The items of a bulk response, in order; or null, unless {@code allItems}, when it starts with
     * {@code "errors":false} (Elasticsearch writes it before the items): every item was created,
     * and the items are not read at all, the common case at full speed.
     */
    static List<Result> parse(InputStream body, boolean allItems) throws IOException {
        List<Result> out = new ArrayList<>(512);
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (!allItems && t == JsonToken.VALUE_FALSE && out.isEmpty() && name.equals("errors")) {
                    return null;
                }
                if (name.equals("items") && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        p.nextToken();           // the action name
                        p.nextToken();           // its object
                        int status = 0;
                        String type = null;
                        String reason = null;
                        String index = null;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String f = p.currentName();
                            p.nextToken();
                            if (f.equals("status")) {
                                status = p.getIntValue();
                            } else if (f.equals("_index")) {
                                index = p.getText();
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
                        out.add(new Result(status, type, reason, index));
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        return out;
    }

    /**
     * The dead-letter document that replaces a refused one: same {@code _id} (so that a replay
     * finds it there), the status ({@code http.response.status_code}), the error ({@code error.type},
     * {@code error.message}), the index it was meant for ({@code document.index}) and the original
     * document in {@code event.original}.
     */
    private byte[] letter(LogEvent e, int status, String type, String reason, String index) {
        byte[] payload = e.payload();
        String original = new String(payload, e.documentStart(), payload.length - e.documentStart() - 1, StandardCharsets.UTF_8);
        String action = new String(payload, 0, e.documentStart(), StandardCharsets.UTF_8);
        int idAt = action.indexOf("\"_id\":\"");
        String id = idAt < 0 ? null : action.substring(idAt + 7, action.indexOf('"', idAt + 7));
        JsonOut o = new JsonOut(original.length() + 512);
        o.ascii("{\"create\":{\"_index\":").string(config.deadLetter());
        if (id != null) {
            o.ascii(",\"_id\":").string(id);
        }
        o.ascii("}}\n{\"@timestamp\":").string(Instant.now().toString())
                .ascii(",\"message\":").string(reason == null ? "refused" : reason)
                .ascii(",\"error\":{\"type\":").string(String.valueOf(type)).ascii(",\"message\":").string(String.valueOf(reason))
                .ascii("},\"http\":{\"response\":{\"status_code\":").number(status)
                .ascii("}},\"container\":{\"id\":").string(e.tracker().containerId())
                .ascii("},\"document\":{\"index\":").string(String.valueOf(index))
                .ascii("},\"event\":{\"original\":").string(original.length() > MAX_ORIGINAL ? original.substring(0, MAX_ORIGINAL) : original)
                .ascii(",\"dataset\":").string(letterDataset)
                .ascii("},\"data_stream\":{\"type\":\"logs\",\"dataset\":").string(letterDataset)
                .ascii(",\"namespace\":").string(letterNamespace).ascii("}}\n");
        return o.toBytes();
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
