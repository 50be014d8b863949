package io.logferry.elasticsearch;

import io.github.resilience4j.core.IntervalFunction;
import io.logferry.config.Config;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.Cursor;
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
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * Sends batches with {@code _bulk}. Each item ends in exactly one of three ways, and every one of
 * them acknowledges it, so that no item can hold back the registry of its container; or, when the
 * destination its container's labels chose keeps failing, it is handed back to its lane unacknowledged
 * ({@link #parkInto}), and ends in one of those ways in a later batch:
 *
 * <pre>
 *   batch ──► [breaker: wait while the cluster is down, one probe at a time] ──► _bulk
 *     ├─ no usable response (connection, timeout, 429/5xx, cluster block) → the whole request again, with backoff
 *     ├─ 400/413 for the whole request → split in halves (one event left: dead-letter it)
 *     └─ per item:  delivered (2xx, 409)                      → ack
 *                   429, 5xx, 403 block                      → again, failed items only, with backoff;
 *                     5xx or block of a stream or pipeline     → after its second failure in a row, parked:
 *                     a label chose (not the operator's)          back to its lane, retried later with backoff
 *                   mapping conflict (400), the first time  → sent again retyped ({@link Retype}): its content's
 *                                                              fields under logferry.flattened; ack when it is held
 *                   refused (retyped too, other 4xx,         → becomes a dead-letter document (with the
 *                            401/403 without privilege)        status, error and original index), sent
 *                                                              with the next request; ack when the
 *                                                              dead-letter stream holds it
 *                   dead-letter document refused too         → dropped, counted and logged with its
 *                   (any 4xx, 401/403 included)                container and offsets; ack
 * </pre>
 *
 * Who decides what: {@link BulkOutcome} sorts one status and error type; {@link RoundOutcome}
 * sorts one request's events (a pure function); {@link Retype} and {@link DeadLetters} build the
 * documents sent in a refused one's place; {@link OperatorTargets} tells a label's destination from
 * the operator's; {@link BlockWatch} keeps the log lines about blocks; this class sends, retries, acks
 * and counts. Retries use exponential backoff with jitter ({@code elasticsearch.backoff}) and no
 * limit. A dead letter rides in the same retry loop as the rest of its batch: it never blocks the
 * other items, and a dead-letter stream that refuses it cannot stall the pipeline.
 *
 * <p>Setup first: given a {@link Preparation} (the index template), {@link #start()} runs it on its
 * own thread ({@code logferry-setup}) until it succeeds, and {@link #deliver} waits until then, so
 * that no document creates a data stream before its template exists. Meanwhile the tailers read and
 * the queue fills (backpressure as usual). While Elasticsearch does not answer, the setup retries
 * with the output's backoff, and at once when {@link #clusterAnswers()} says it answers again.
 *
 * <p>Fast resume: {@link #clusterAnswers()} (the agent's health probe saw Elasticsearch answer after
 * not answering) makes the open breaker half-open at once and ends the workers' retry waits, so the
 * backlog flows as soon as the cluster is back instead of after the rest of a backoff of up to
 * {@code backoff.max}.
 *
 * <p>Thread-safe: {@code elasticsearch.workers} threads call {@link #deliver} at once; the state of
 * one batch (its dead letters) is local to its call. The setup thread only counts {@link #ready} down.
 */
public final class ElasticsearchOutput implements Output {
    private static final Logger log = LoggerFactory.getLogger(ElasticsearchOutput.class);
    private static final ContentType NDJSON = ContentType.create("application/x-ndjson", StandardCharsets.UTF_8);
    /** What a response must tell: its status and error per item, in order. */
    private static final String FILTER = "errors,items.*.status,items.*.error.type,items.*.error.reason";
    /** ... and the index of each item, while blocks are watched: to see which one is blocked and when it is lifted. */
    private static final String FILTER_WITH_INDEX = FILTER + ",items.*._index";

    private final RestClient client;
    private final Config.Elasticsearch config;
    private final Metrics metrics;
    private final IntervalFunction backoff;
    private final Breaker breaker;
    private final BlockWatch blocks = new BlockWatch(System::nanoTime);
    private final DeadLetters deadLetters;
    private final LongAdder acked;
    private final LongAdder duplicates;
    private final LongAdder retried;
    private final LongAdder blocked;
    private final LongAdder deadLettered;
    private final LongAdder failedRequests;
    private final LongAdder dropped;
    private final LongAdder forbidden;
    private final LongAdder droppedForbidden;
    private final LongAdder parked;
    private final LongAdder retyped;
    /** The operator's own destinations; null: every destination counts as the operator's, nothing is parked. */
    private final OperatorTargets operator;
    /** Where parked events go back (the queue); null until the batcher gives it: nothing is parked. */
    private volatile Parking parking;
    /**
     * Label-chosen destinations ({@link OperatorTargets#labelChosen}) whose items failed with a 5xx or a
     * block, with how many requests in a row they did: from {@value #PARK_AFTER} on, their events are
     * parked. Removed when one of their documents is delivered. Bounded: {@value #FORBIDDEN_LOGGED_MAX}.
     */
    private final Map<String, Integer> failing = new ConcurrentHashMap<>();
    /** A label-chosen destination's events are parked from its second failing request in a row on (the first is retried in place). */
    static final int PARK_AFTER = 2;
    /** Data streams whose 401/403 was logged: once per stream, not per document; bounded (labels choose streams). */
    private final Set<String> forbiddenLogged = ConcurrentHashMap.newKeySet();
    static final int FORBIDDEN_LOGGED_MAX = 1000;
    /** Containers whose documents sent through an ingest pipeline were refused, logged once each. */
    private final Set<String> pipelineLogged = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastLetterLog = new AtomicLong();
    private final LongAdder lettersNotLogged = new LongAdder();
    private final AtomicLong lastRetypeLog = new AtomicLong();
    private final LongAdder retypesNotLogged = new LongAdder();
    private volatile String problem;
    /** What runs once before the first request; null: nothing. */
    private final Preparation preparation;
    /** Open (zero) once the preparation has run: {@link #deliver} waits on it. */
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile String setupProblem = "index template not installed yet";
    private volatile Thread setupThread;

    /** What must succeed once before the first bulk request: installing the index template. */
    @FunctionalInterface
    public interface Preparation {
        void run() throws IOException;
    }

    public ElasticsearchOutput(RestClient client, Config.Elasticsearch config, Metrics metrics) {
        this(client, config, metrics, null);
    }

    /** @param preparation run by {@link #start()} until it succeeds, before any bulk request; null: none */
    public ElasticsearchOutput(RestClient client, Config.Elasticsearch config, Metrics metrics, Preparation preparation) {
        this(client, config, metrics, preparation, null);
    }

    /**
     * @param preparation run by {@link #start()} until it succeeds, before any bulk request; null: none
     * @param operator    the operator's default stream and pipeline: events going elsewhere (a label's choice) whose
     *                    destination keeps failing are parked; null: nothing is parked
     */
    public ElasticsearchOutput(RestClient client, Config.Elasticsearch config, Metrics metrics, Preparation preparation,
                               OperatorTargets operator) {
        this.client = client;
        this.operator = operator;
        this.config = config;
        this.preparation = preparation;
        if (preparation == null) {
            ready.countDown();
        }
        this.metrics = metrics;
        this.backoff = IntervalFunction.ofExponentialRandomBackoff(config.backoffInitial(), 2.0, 0.5, config.backoffMax());
        this.breaker = new Breaker(config.backoffInitial(), config.backoffMax(), config.timeout(), metrics);
        this.deadLetters = new DeadLetters(config.deadLetter(), Clock.systemUTC());
        this.acked = metrics.counter(Metric.EVENTS_ACKED);
        this.duplicates = metrics.counter(Metric.EVENTS_DUPLICATE);
        this.retried = metrics.counter(Metric.EVENTS_RETRIED);
        this.blocked = metrics.counter(Metric.EVENTS_BLOCKED);
        this.deadLettered = metrics.counter(Metric.EVENTS_DEAD_LETTERED);
        this.failedRequests = metrics.counter(Metric.BULK_REQUESTS_FAILED);
        this.dropped = metrics.counter(Metric.EVENTS_DROPPED, "reason", "dead_letter_refused");
        this.droppedForbidden = metrics.counter(Metric.EVENTS_DROPPED, "reason", "dead_letter_forbidden");
        this.forbidden = metrics.counter(Metric.EVENTS_FORBIDDEN);
        this.parked = metrics.counter(Metric.EVENTS_PARKED);
        this.retyped = metrics.counter(Metric.EVENTS_RETYPED);
        metrics.gauge(Metric.OUTPUT_READY, () -> ready.getCount() == 0 ? 1 : 0);
    }

    /**
     * Starts the setup on its own thread, {@code logferry-setup}, when there is one: it returns at
     * once, and {@link #deliver} waits until the setup has succeeded.
     */
    public void start() {
        if (preparation == null) {
            return;
        }
        Thread t = new Thread(this::prepare, "logferry-setup");
        t.setDaemon(true);
        setupThread = t;
        t.start();
    }

    /** The setup, until it succeeds: the output's backoff between attempts, cut short when the cluster answers again. */
    private void prepare() {
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    preparation.run();
                    setupProblem = null;
                    ready.countDown();
                    breaker.answered();
                    return;
                } catch (IOException | RuntimeException e) {
                    long wait = backoff.apply(Math.min(attempt, 30));
                    String why = EsErrors.describe(e, config);
                    setupProblem = "index template not installed yet: " + why;
                    log.warn("cannot install the index template yet ({}); the tailers read and queue meanwhile, nothing is sent "
                            + "before it exists; retrying in {} ms, or as soon as elasticsearch answers", why, wait);
                    if (breaker.pause(wait)) {
                        attempt = 0;
                    }
                }
            }
        } catch (InterruptedException e) {
            // closing
        }
    }

    /**
     * Elasticsearch answered after not answering (the health probe saw it): the breaker goes
     * half-open at once, and waits for a retry or for the setup end now. Any thread; cheap.
     */
    public void clusterAnswers() {
        breaker.answered();
    }

    /**
     * Waits {@code millis}, or less when the cluster is seen answering again meanwhile: for other
     * retries towards the same cluster (the per-dataset templates).
     *
     * @return true when the wait ended early because the cluster answers again
     */
    public boolean pause(long millis) throws InterruptedException {
        return breaker.pause(millis);
    }

    @Override
    public void parkInto(Parking p) {
        this.parking = p;
    }

    @Override
    public String problem() {
        if (ready.getCount() > 0) {
            return setupProblem;
        }
        String p = problem;
        if (p != null && breaker.open()) {
            return p + " (circuit breaker open: probing)";
        }
        return p;
    }

    @Override
    public void deliver(List<LogEvent> batch) throws InterruptedException {
        long takenAt = System.nanoTime();    // the delivery histogram's start: a wait for the set-up at start included
        if (ready.getCount() > 0) {
            ready.await();
        }
        deliver(batch, new StandIns(), takenAt);
    }

    /**
     * Sends {@code batch} until no event of it is left: each request is sorted by
     * {@link RoundOutcome}, and what it leaves goes again, after the backoff when any of it was
     * retried.
     *
     * @param letters the events of this batch that Elasticsearch refused, with the dead-letter
     *                document (or, after a mapping conflict, the retyped one) that replaces them in the next requests
     */
    private void deliver(List<LogEvent> batch, StandIns letters, long takenAt) throws InterruptedException {
        List<LogEvent> pending = batch;
        int round = 0;
        while (!pending.isEmpty()) {
            RoundOutcome o = attempt(pending, letters, round);
            if (o.split()) {
                int half = pending.size() / 2;
                deliver(new ArrayList<>(pending.subList(0, half)), letters, takenAt);
                deliver(new ArrayList<>(pending.subList(half, pending.size())), letters, takenAt);
                return;
            }
            settle(o, letters, takenAt);
            List<LogEvent> next = o.again();
            int retriedHere = o.retried();
            if (!failing.isEmpty()) {
                recovered(o.acked(), letters);
            }
            if (!o.failedItems().isEmpty() && operator != null && parking != null) {
                Set<LogEvent> gone = park(o.failedItems(), letters, o.firstRetry());
                if (!gone.isEmpty()) {
                    next = new ArrayList<>(next);
                    next.removeIf(gone::contains);
                    retriedHere -= gone.size();
                }
            }
            if (o.retried() > 0) {
                retried.add(o.retried());
            }
            if (retriedHere > 0) {
                round++;
                if (!breaker.open()) {
                    // while the breaker is open, its wait is the backoff; this one ends early when the cluster is back
                    breaker.pause(backoff.apply(Math.min(round, 30)));
                }
            }
            pending = next;
        }
    }

    /**
     * Of {@code failedItems} (5xx or block), those whose destination a label chose and failed in the
     * request before too are handed back to their lanes, parked for the backoff of their failures in a
     * row; the first failure of a destination is retried in place, as any other. Returns the events parked.
     */
    private Set<LogEvent> park(List<LogEvent> failedItems, StandIns letters, String why) {
        Map<String, List<LogEvent>> byTarget = new LinkedHashMap<>();
        for (LogEvent e : failedItems) {
            if (letters.isEmpty() || !letters.containsKey(e)) {
                String target = operator.labelChosen(e);
                if (target != null) {
                    byTarget.computeIfAbsent(target, t -> new ArrayList<>()).add(e);
                }
            }
        }
        Set<LogEvent> gone = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, List<LogEvent>> t : byTarget.entrySet()) {
            String target = t.getKey();
            int n = failing.size() < FORBIDDEN_LOGGED_MAX || failing.containsKey(target)
                    ? failing.merge(target, 1, Integer::sum) : PARK_AFTER;
            if (n < PARK_AFTER) {
                continue;
            }
            List<LogEvent> events = t.getValue();
            long delay = backoff.apply(Math.min(n - PARK_AFTER + 1, 30));
            parking.park(events, TimeUnit.MILLISECONDS.toNanos(delay));
            parked.add(events.size());
            gone.addAll(events);
            if (n == PARK_AFTER || n % 10 == 0) {
                log.warn("{}, which the labels of container {} chose, keeps failing ({}; {} requests in a row); its {} events go back "
                        + "to the container's queue lane, parked for {} ms and retried with backoff, while the other containers ship on "
                        + "(logferry_events_parked_total; its tailer waits while its share of the queue is full, nothing is dropped)",
                        target, shortId(events.get(0)), why, n, events.size(), delay);
            }
        }
        return gone;
    }

    /** Label-chosen destinations that failed and took one of {@code acked} now: no longer failing. */
    private void recovered(List<LogEvent> acked, StandIns letters) {
        if (operator == null) {
            return;
        }
        String last = null;
        for (LogEvent e : acked) {
            if (!letters.isEmpty() && letters.containsKey(e)) {
                continue;
            }
            String target = operator.labelChosen(e);
            if (target != null && !target.equals(last)) {
                last = target;
                Integer n = failing.remove(target);
                if (n != null && n >= PARK_AFTER) {
                    log.info("{} takes documents again (after {} failing requests in a row): container {}'s lane is no longer parked",
                            target, n, shortId(e));
                }
            }
        }
    }

    /** One request through the breaker, and what it did to {@code pending}; {@code round}: retries so far, for the log. */
    private RoundOutcome attempt(List<LogEvent> pending, StandIns letters, int round) throws InterruptedException {
        // isEmpty: no identity hash per event
        Predicate<LogEvent> isLetter = e -> !letters.isEmpty() && letters.containsKey(e) && !letters.retyped.contains(e);
        Predicate<LogEvent> isRetyped = e -> !letters.retyped.isEmpty() && letters.retyped.contains(e);
        Breaker.Permit permit = breaker.enter();
        long sentAt = blocks.now();
        boolean watched = blocks.watching();
        try {
            List<BulkResponse.Result> results = send(pending, letters, watched);
            permit.succeeded();
            problem = null;
            RoundOutcome o = RoundOutcome.of(pending, isLetter, isRetyped, results);
            blocks.response(watched, sentAt, o, o.retried());
            if (o.firstRetry() != null && (round == 0 || round % 10 == 9)) {
                log.warn("{} of {} bulk items must be retried (first: {}); attempt {}", o.retried(), pending.size(), o.firstRetry(), round + 1);
            }
            return o;
        } catch (RequestFailure f) {
            failedRequests.increment();
            RoundOutcome o = RoundOutcome.failed(pending, isLetter, f.status, f.errorType, f.getMessage());
            if (o.retried() == 0) {
                // split, or its one event refused: it is the request, not the cluster (its halves may pass)
                permit.succeeded();
                if (o.split()) {
                    log.warn("elasticsearch answered {} to a bulk request of {} events; splitting it", f.status, pending.size());
                }
                return o;
            }
            permit.failed(f);
            problem = f.getMessage();
            if (o.blocked() > 0) {
                blocks.blocked(BlockWatch.CLUSTER, f.getMessage(), pending.size());
            } else if (round == 0 || round % 10 == 9) {
                log.warn("bulk request of {} events failed ({}); retrying with backoff, attempt {}", pending.size(), f.getMessage(), round + 1);
            }
            return o;
        } catch (InterruptedException | RuntimeException e) {
            permit.abandoned();
            throw e;
        }
    }

    /** Carries out what the outcome of one request says: acks, counts, dead letters to build, losses to log. */
    private void settle(RoundOutcome o, StandIns letters, long takenAt) {
        LogEvent.ackAll(o.acked());
        metrics.delivery().recordAll(o.acked(), (System.nanoTime() - takenAt) / 1_000_000);
        acked.add(o.delivered());
        duplicates.add(o.duplicates());
        deadLettered.add(o.deadLettered());
        blocked.add(o.blocked());
        retyped.add(o.retyped());
        for (RoundOutcome.Refusal r : o.toRetype()) {
            byte[] again = Retype.document(r.event());
            if (again != null) {
                letters.put(r.event(), again);
                letters.retyped.add(r.event());
                logRetyped(r);
            } else {
                letters.put(r.event(), deadLetters.letter(r.event(), r.status(), r.type(), r.reason()));
                logRefused(r);
            }
        }
        for (RoundOutcome.Refusal r : o.toLetter()) {
            letters.retyped.remove(r.event());
            letters.put(r.event(), deadLetters.letter(r.event(), r.status(), r.type(), r.reason()));
            if (r.forbidden()) {
                forbidden.increment();
                logForbidden(r);
            } else if (!logPipeline(r)) {
                logRefused(r);
            }
        }
        if (!o.lost().isEmpty()) {
            for (RoundOutcome.Refusal r : o.lost()) {
                letters.remove(r.event());
                (r.status() == 401 || r.status() == 403 ? droppedForbidden : dropped).increment();
                r.event().ack();
            }
            logLosses(o.lost());
        }
    }

    /** A stream the agent may not write to: logged once per stream, not per document (labels choose streams, so it is bounded). */
    private void logForbidden(RoundOutcome.Refusal r) {
        String stream = r.event().index() == null ? "?" : r.event().index();
        if (forbiddenLogged.size() < FORBIDDEN_LOGGED_MAX && forbiddenLogged.add(stream)) {
            log.warn("elasticsearch does not allow writing to {} ({} {}: {}); its documents go to {} with the error, "
                    + "counted in logferry_events_forbidden_total, and are not retried: grant the privilege to write "
                    + "there, or change the container's logferry.dataset / logferry.namespace (logged once per stream)",
                    stream, r.status(), r.type(), r.reason(), deadLetters.stream());
        }
    }

    /**
     * A refused document sent through an ingest pipeline (one missing, or failing): one warning per
     * container naming the pipeline, not one per document. False when the document had no pipeline
     * (or {@value #FORBIDDEN_LOGGED_MAX} containers were logged already): then {@link #logRefused} logs it.
     */
    private boolean logPipeline(RoundOutcome.Refusal r) {
        String pipeline = pipelineOf(r.event());
        if (pipeline == null) {
            return false;
        }
        String container = r.event().tracker().containerId();
        if (pipelineLogged.contains(container)) {
            return true;
        }
        if (pipelineLogged.size() >= FORBIDDEN_LOGGED_MAX || !pipelineLogged.add(container)) {
            return pipelineLogged.contains(container);
        }
        log.warn("elasticsearch refused a document of container {} sent through ingest pipeline {} ({} {}: {}); its documents "
                + "that fail go to {} with the error and are counted in logferry_events_dead_lettered_total: create the pipeline "
                + "or fix it, or change the container's logferry.pipeline / co.elastic.logs/pipeline label (logged once per container)",
                shortId(r.event()), pipeline, r.status(), r.type(), r.reason(), deadLetters.stream());
        return true;
    }

    /** The {@code pipeline} of an event's create line, or null. */
    static String pipelineOf(LogEvent e) {
        byte[] p = e.payload();
        byte[] key = "\"pipeline\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int end = Math.min(e.documentStart(), p.length);
        outer:
        for (int i = 0; i + key.length <= end; i++) {
            for (int j = 0; j < key.length; j++) {
                if (p[i + j] != key[j]) {
                    continue outer;
                }
            }
            int from = i + key.length;
            for (int k = from; k < end; k++) {
                if (p[k] == '\\') {
                    k++;
                } else if (p[k] == '"') {
                    return new String(p, from, k - from, java.nio.charset.StandardCharsets.UTF_8);
                }
            }
            return null;
        }
        return null;
    }

    /**
     * A document refused for a mapping conflict, sent again with its content's fields under
     * {@value Retype#FIELD}: at most one line every 10 s, with how many were not logged since.
     */
    private void logRetyped(RoundOutcome.Refusal r) {
        long now = System.nanoTime();
        long last = lastRetypeLog.get();
        if (now - last > TimeUnit.SECONDS.toNanos(10) && lastRetypeLog.compareAndSet(last, now)) {
            long more = retypesNotLogged.sumThenReset();
            // the reason says which: a field another document mapped with another type, or a mapping limit (depth, count)
            log.warn("elasticsearch refused a document of container {} for the mapping of its fields in {} ({}: {}); it is sent "
                    + "again with its decoded fields under {} (log.flags: {}; counted in logferry_events_retyped_total){}",
                    shortId(r.event()), r.event().index(), r.type(), r.reason(), Retype.FIELD, Retype.FLAG,
                    more == 0 ? "" : " (and " + more + " more since the last such line)");
        } else {
            retypesNotLogged.increment();
        }
    }

    /** A refused document: at most one line every 10 s, with how many were not logged since. */
    private void logRefused(RoundOutcome.Refusal r) {
        long now = System.nanoTime();
        long last = lastLetterLog.get();
        if (now - last > TimeUnit.SECONDS.toNanos(10) && lastLetterLog.compareAndSet(last, now)) {
            long more = lettersNotLogged.sumThenReset();
            log.warn("elasticsearch refused a document of container {} ({} {}: {}); it goes to {} with the error and the original{}",
                    shortId(r.event()), r.status(), r.type(), r.reason(), deadLetters.stream(),
                    more == 0 ? "" : " (and " + more + " more since the last such line)");
        } else {
            lettersNotLogged.increment();
        }
    }

    /**
     * One line per container and file for the documents of one response that the dead-letter
     * stream refused too (not one per document: a stream without privilege refuses them all),
     * with the offsets of the first and the last entry lost, and why the first one was refused.
     */
    private void logLosses(List<RoundOutcome.Refusal> lost) {
        String why = lost.get(0).why();
        Map<String, long[]> byFile = new LinkedHashMap<>();
        for (RoundOutcome.Refusal l : lost) {
            Cursor c = l.event().commit();
            String key = shortId(l.event()) + ", file " + (c == null ? "?" : c.fileId());
            long off = c == null ? -1 : c.offset();
            long[] r = byFile.computeIfAbsent(key, k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0});
            r[0] = Math.min(r[0], off);
            r[1] = Math.max(r[1], off);
            r[2]++;
        }
        for (Map.Entry<String, long[]> f : byFile.entrySet()) {
            long[] r = f.getValue();
            log.error("the dead-letter stream {} refused {} too ({}); {} lost: container {}, {}",
                    deadLetters.stream(), r[2] == 1 ? "a document" : r[2] + " documents", why, r[2] == 1 ? "it is" : "they are",
                    f.getKey(), r[2] == 1 ? "entry ending at offset " + r[0] : "entries ending at offsets " + r[0] + " to " + r[1]);
        }
    }

    private static String shortId(LogEvent e) {
        String id = e.tracker().containerId();
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /**
     * What replaces events of one batch in its next requests: the dead letter of a refused one, or
     * the retyped document ({@link Retype}) of one refused for a mapping conflict (those are also in
     * {@link #retyped}). Local to one {@link #deliver} call: one thread.
     */
    private static final class StandIns {
        final Map<LogEvent, byte[]> bytes = new IdentityHashMap<>();
        final Set<LogEvent> retyped = java.util.Collections.newSetFromMap(new IdentityHashMap<>());

        boolean isEmpty() {
            return bytes.isEmpty();
        }

        boolean containsKey(LogEvent e) {
            return bytes.containsKey(e);
        }

        byte[] get(LogEvent e) {
            return bytes.get(e);
        }

        void put(LogEvent e, byte[] b) {
            bytes.put(e, b);
        }

        void remove(LogEvent e) {
            bytes.remove(e);
            retyped.remove(e);
        }
    }

    /** A request that got no bulk response: its HTTP status (0: no HTTP response at all) and error type. */
    private static final class RequestFailure extends Exception {
        final int status;
        final String errorType;

        RequestFailure(int status, String errorType, String message) {
            super(message, null, false, false);
            this.status = status;
            this.errorType = errorType;
        }
    }

    private List<BulkResponse.Result> send(List<LogEvent> events, StandIns letters, boolean withIndex)
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
            parts = Arrays.copyOf(parts, n);
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
            throw new RequestFailure(status, errorType(re.getResponse()),
                    "HTTP " + status + " from " + re.getResponse().getHost() + ": " + lastLine(re.getMessage()));
        } catch (IOException io) {
            throw new RequestFailure(0, null, io.getClass().getSimpleName() + ": " + io.getMessage());
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
            List<BulkResponse.Result> results = BulkResponse.parse(in, withIndex);
            if (results != null && results.size() != count) {
                throw new RequestFailure(0, null, "the bulk response has " + results.size() + " items for " + count + " actions");
            }
            return results;
        } catch (IOException io) {
            throw new RequestFailure(0, null, "unreadable bulk response: " + io.getMessage());
        }
    }

    /** The {@code error.type} of an error response (the client has buffered its body to build the exception's message). */
    private static String errorType(Response r) {
        if (r.getEntity() == null) {
            return null;
        }
        try (InputStream in = r.getEntity().getContent()) {
            return BulkResponse.errorType(in);
        } catch (IOException | RuntimeException e) {
            return null;
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

    @Override
    public void close() {
        Thread t = setupThread;
        if (t != null) {
            t.interrupt();
        }
        try {
            client.close();
        } catch (IOException e) {
            log.debug("closing the elasticsearch client", e);
        }
    }
}
