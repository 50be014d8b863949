package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.logferry.config.Config;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The output against a scripted {@code _bulk} endpoint on loopback: each test answers the requests
 * in turn and checks what was sent, what was acknowledged and what was counted.
 */
class ElasticsearchOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One bulk request as the server saw it: the action and document of each item. */
    record Bulk(List<JsonNode> actions, List<JsonNode> docs) {
        String id(int i) {
            return actions.get(i).path("create").path("_id").asText();
        }

        String index(int i) {
            return actions.get(i).path("create").path("_index").asText();
        }
    }

    /** Its own threads: the common pool has one thread on a two-core machine, and a waiter would hold it. */
    private final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();

    private HttpServer server;
    private final List<Bulk> seen = Collections.synchronizedList(new ArrayList<>());
    private volatile Function<Bulk, Reply> script;
    private final Metrics metrics = new Metrics();
    private ElasticsearchOutput output;
    private final AckTracker tracker = new AckTracker("c0ffee", null);

    record Reply(int status, String body) { }

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/_bulk", ex -> {
            List<JsonNode> actions = new ArrayList<>();
            List<JsonNode> docs = new ArrayList<>();
            String[] lines = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("\n");
            for (int i = 0; i + 1 < lines.length; i += 2) {
                actions.add(JSON.readTree(lines[i]));
                docs.add(JSON.readTree(lines[i + 1]));
            }
            Bulk b = new Bulk(actions, docs);
            seen.add(b);
            Reply r = script.apply(b);
            byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(r.status(), out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
        Config.Elasticsearch es = new Config.Elasticsearch(List.of("http://127.0.0.1:" + server.getAddress().getPort()), "", "", "",
                "", "", Config.TlsVerify.FULL, 100, 1 << 20, Duration.ofMillis(10), 1, Duration.ofSeconds(10),
                Duration.ofMillis(1), Duration.ofMillis(5), "logs-logferry.deadletter-test");
        output = new ElasticsearchOutput(EsConnection.build(es), es, metrics);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        output.close();
        server.stop(0);
    }

    private static final byte[] TAIL = ",\"container\":{\"id\":\"c0ffee\"}}\n".getBytes(StandardCharsets.UTF_8);

    private List<LogEvent> events(int n) {
        List<LogEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String action = "{\"create\":{\"_index\":\"logs-docker-test\",\"_id\":\"id" + i + "\"}}\n";
            String doc = "{\"message\":\"line " + i + "\",\"f\":" + i;
            byte[] head = (action + doc).getBytes(StandardCharsets.UTF_8);
            int idStart = action.indexOf("id" + i);
            // as a tailer makes them: the end of the document line is shared by the container's events, and the
            // event knows its index and where its _id is
            LogEvent e = new LogEvent(tracker, head, TAIL, action.length(), new Cursor(1, "file", (i + 1) * 100L),
                    "logs-docker-test", idStart, idStart + ("id" + i).length());
            tracker.published(e);
            out.add(e);
        }
        return out;
    }

    private static String item(int status, String errorType) {
        String error = errorType == null ? "" : ",\"error\":{\"type\":\"" + errorType + "\",\"reason\":\"because " + errorType + "\"}";
        return "{\"create\":{\"_index\":\".ds-logs-docker-test-000001\",\"status\":" + status + error + "}}";
    }

    private static Reply items(String... items) {
        return new Reply(200, "{\"errors\":true,\"items\":[" + String.join(",", items) + "]}");
    }

    /** As Elasticsearch answers when every item was created: the output reads no further than {@code "errors":false}. */
    private static Reply allCreated(Bulk b) {
        String[] items = new String[b.actions().size()];
        java.util.Arrays.fill(items, item(201, null));
        return new Reply(200, "{\"errors\":false,\"items\":[" + String.join(",", items) + "]}");
    }

    @Test
    void everyItemIsSortedAndOnlyTheFailedOnesAreSentAgain() throws Exception {
        script = b -> switch (seen.size()) {
            case 1 -> items(item(201, null), item(409, "version_conflict_engine_exception"), item(429, "es_rejected_execution_exception"),
                    item(503, "unavailable_shards_exception"), item(400, "illegal_argument_exception"));
            default -> allCreated(b);
        };
        output.deliver(events(5));

        assertThat(seen).hasSize(2);
        // each document arrived whole: the event's own bytes, then the tail its container's events share
        assertThat(seen.get(0).docs()).hasSize(5).allSatisfy(d -> assertThat(d.path("container").path("id").asText()).isEqualTo("c0ffee"));
        assertThat(seen.get(0).docs().get(3).path("message").asText()).isEqualTo("line 3");
        Bulk second = seen.get(1);
        // the retried items, and the refused one as a dead letter with the same _id
        assertThat(second.actions()).hasSize(3);
        assertThat(second.id(0)).isEqualTo("id2");
        assertThat(second.id(1)).isEqualTo("id3");
        assertThat(second.id(2)).isEqualTo("id4");
        assertThat(second.index(2)).isEqualTo("logs-logferry.deadletter-test");
        JsonNode letter = second.docs().get(2);
        assertThat(letter.path("error").path("type").asText()).isEqualTo("illegal_argument_exception");
        assertThat(letter.path("error").path("code").asText()).isEqualTo("400");
        assertThat(JSON.readTree(letter.path("event").path("original").asText()).path("message").asText()).isEqualTo("line 4");
        assertThat(letter.path("data_stream").path("namespace").asText()).isEqualTo("test");
        assertThat(letter.path("container").path("id").asText()).isEqualTo("c0ffee");

        assertThat(tracker.outstanding()).isZero();
        assertThat(tracker.committed().offset()).isEqualTo(500);
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(4);
        assertThat(metrics.value("logferry_events_duplicate_total")).isEqualTo(1);
        assertThat(metrics.value("logferry_events_retried_total")).isEqualTo(2);
        assertThat(metrics.value("logferry_events_dead_lettered_total")).isEqualTo(1);
    }

    @Test
    void aDeadLetterRefusedTooIsDroppedAndCountedWhileTheOthersAreDelivered() throws Exception {
        script = b -> switch (seen.size()) {
            case 1 -> items(item(201, null), item(400, "illegal_argument_exception"), item(429, "es_rejected_execution_exception"));
            // the dead-letter stream refuses the letter of id1; id2 is still rejected once more
            case 2 -> items(item(400, "document_parsing_exception"), item(429, "es_rejected_execution_exception"));
            default -> allCreated(b);
        };
        output.deliver(events(3));

        assertThat(seen).hasSize(3);
        assertThat(seen.get(2).actions()).hasSize(1);
        assertThat(seen.get(2).id(0)).isEqualTo("id2");
        assertThat(tracker.outstanding()).isZero();
        assertThat(tracker.committed().offset()).isEqualTo(300);
        assertThat(metrics.value("logferry_events_dropped_total", "reason", "dead_letter_refused")).isEqualTo(1);
        assertThat(metrics.value("logferry_events_dead_lettered_total")).isZero();
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(2);
    }

    @Test
    void anItemWithoutPrivilegeIsDeadLetteredOnceAndNeverRetried() throws Exception {
        // 403 security_exception for id1 and id3 (no privilege on their index), 401 for id4; a block on id2 is still held
        script = b -> switch (seen.size()) {
            case 1 -> items(item(201, null), item(403, "security_exception"), item(403, "cluster_block_exception"),
                    item(403, "security_exception"), item(401, "security_exception"));
            default -> allCreated(b);
        };
        output.deliver(events(5));

        assertThat(seen).hasSize(2);
        Bulk second = seen.get(1);
        assertThat(second.actions()).hasSize(4);
        assertThat(second.id(0)).isEqualTo("id1");
        assertThat(second.index(0)).isEqualTo("logs-logferry.deadletter-test");
        assertThat(second.id(1)).isEqualTo("id2");
        assertThat(second.index(1)).as("a block is held and retried, not dead-lettered").isEqualTo("logs-docker-test");
        assertThat(second.index(2)).isEqualTo("logs-logferry.deadletter-test");
        assertThat(second.index(3)).isEqualTo("logs-logferry.deadletter-test");
        JsonNode letter = second.docs().get(0);
        assertThat(letter.path("error").path("code").asText()).isEqualTo("403");
        assertThat(letter.path("error").path("type").asText()).isEqualTo("security_exception");
        assertThat(letter.path("error").path("message").asText()).isEqualTo("because security_exception");
        assertThat(letter.path("document").path("index").asText()).isEqualTo("logs-docker-test");
        assertThat(JSON.readTree(letter.path("event").path("original").asText()).path("message").asText()).isEqualTo("line 1");
        assertThat(second.docs().get(3).path("error").path("code").asText()).isEqualTo("401");

        assertThat(tracker.outstanding()).isZero();
        assertThat(tracker.committed().offset()).isEqualTo(500);
        assertThat(metrics.value("logferry_events_forbidden_total")).isEqualTo(3);
        assertThat(metrics.value("logferry_events_dead_lettered_total")).isEqualTo(3);
        assertThat(metrics.value("logferry_events_blocked_total")).isEqualTo(1);
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(2);
    }

    @Test
    void aDeadLetterRefusedWith403IsALossCountedOnceNotALoop() throws Exception {
        // no privilege anywhere, the dead-letter stream included: every item of every request is a 403
        script = b -> {
            String[] all = new String[b.actions().size()];
            java.util.Arrays.fill(all, item(403, "security_exception"));
            return items(all);
        };
        // two batches in turn: before, the first one held its worker forever
        output.deliver(events(3));
        output.deliver(events(2));

        assertThat(seen).as("each batch: once to its stream, once to the dead-letter stream").hasSize(4);
        assertThat(tracker.outstanding()).isZero();
        assertThat(metrics.value("logferry_events_forbidden_total")).isEqualTo(5);
        assertThat(metrics.value("logferry_events_dropped_total", "reason", "dead_letter_forbidden")).isEqualTo(5);
        assertThat(metrics.value("logferry_events_dropped_total", "reason", "dead_letter_refused")).isZero();
        assertThat(metrics.value("logferry_events_dead_lettered_total")).isZero();
        assertThat(metrics.value("logferry_events_retried_total")).as("a dead letter is not a retry").isZero();
    }

    @Test
    void aWholeRequestRefusedWith403IsABlockOnlyWhenItsErrorTypeSaysSo() throws Exception {
        // no privilege for the bulk action as a whole: retried (credentials can be fixed), never taken for a block,
        // though its reason has "block" in it
        script = b -> switch (seen.size()) {
            case 1, 2 -> new Reply(403, "{\"error\":{\"root_cause\":[{\"type\":\"security_exception\"}],\"type\":\"security_exception\","
                    + "\"reason\":\"action [indices:data/write/bulk] is unauthorized for user [blocked-user]\"},\"status\":403}");
            default -> allCreated(b);
        };
        output.deliver(events(2));

        assertThat(seen).hasSize(3);
        assertThat(tracker.outstanding()).isZero();
        assertThat(metrics.value("logferry_events_blocked_total")).isZero();
        assertThat(metrics.value("logferry_events_retried_total")).isEqualTo(4);
        assertThat(metrics.value("logferry_bulk_requests_failed_total")).isEqualTo(2);
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(2);
    }

    @Test
    void aWholeRequestRefusedIsSplitDownToTheOneEventThatCausesIt() throws Exception {
        // a request with id3 in it is refused as a whole; so is the dead letter of id3
        script = b -> {
            for (int i = 0; i < b.actions().size(); i++) {
                if (b.id(i).equals("id3")) {
                    return new Reply(b.actions().size() == 1 && b.index(0).startsWith("logs-logferry") ? 413 : 400,
                            "{\"error\":{\"type\":\"illegal_argument_exception\"},\"status\":400}");
                }
            }
            return allCreated(b);
        };
        output.deliver(events(8));

        assertThat(tracker.outstanding()).isZero();
        assertThat(tracker.committed().offset()).isEqualTo(800);
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(7);
        assertThat(metrics.value("logferry_events_dropped_total", "reason", "dead_letter_refused")).isEqualTo(1);
    }

    @Test
    void aBlockHoldsTheEventsUntilItIsLiftedAndDropsNothing() throws Exception {
        script = b -> switch (seen.size()) {
            case 1 -> items(item(201, null), item(403, "cluster_block_exception"));
            case 2, 3 -> items(item(403, "cluster_block_exception"));
            // a cluster-level block refuses the whole request
            case 4, 5 -> new Reply(403, "{\"error\":{\"root_cause\":[{\"type\":\"cluster_block_exception\"}],\"type\":\"cluster_block_exception\","
                    + "\"reason\":\"blocked by: [FORBIDDEN/6/cluster read-only (api)];\"},\"status\":403}");
            default -> allCreated(b);
        };
        List<LogEvent> events = events(2);
        output.deliver(events.subList(0, 2));
        // items are retried one by one: the first request delivered id0 only
        assertThat(seen.get(1).actions()).hasSize(1);
        assertThat(tracker.outstanding()).isZero();
        assertThat(metrics.value("logferry_events_blocked_total")).isEqualTo(5);
        assertThat(metrics.value("logferry_events_dropped_total", "reason", "dead_letter_refused")).isZero();
        assertThat(metrics.value("logferry_events_dead_lettered_total")).isZero();
    }

    @Test
    void whileTheClusterIsDownWorkersWaitAndOneProbeGoesThrough() throws Exception {
        // backoff 20 ms doubling to 100 ms: eight workers without the breaker would send about 8 × 12 requests a second
        output.close();
        output = new ElasticsearchOutput(EsConnection.build(config(Duration.ofMillis(20), Duration.ofMillis(100))),
                config(Duration.ofMillis(20), Duration.ofMillis(100)), metrics);
        // 503 for every request until the test says so
        CompletableFuture<Void> up = new CompletableFuture<>();
        script = b -> up.isDone() ? allCreated(b) : new Reply(503, "{\"error\":\"down\",\"status\":503}");
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            List<LogEvent> batch = events(3);
            workers.add(CompletableFuture.runAsync(() -> deliverUnchecked(batch), pool));
        }
        // with it: the failures that open it, then one probe at a time, 20 ms ± 50 % doubling to 100 ms
        await().atMost(Duration.ofSeconds(10)).until(() -> output.problem() != null && output.problem().contains("circuit breaker open"));
        int atOpen = seen.size();
        assertThat(atOpen).as("requests until the breaker opened").isGreaterThanOrEqualTo(Breaker.MINIMUM_CALLS);
        // a window to count in, not a synchronisation: a slower or loaded machine only sends fewer
        Thread.sleep(1000);
        int inASecond = seen.size() - atOpen;
        assertThat(inASecond).as("requests in a second with the breaker open (eight workers without it: about 96)").isLessThanOrEqualTo(40);
        assertThat(output.problem()).contains("503").contains("circuit breaker open");
        up.complete(null);
        for (CompletableFuture<Void> w : workers) {
            w.get(10, TimeUnit.SECONDS);
        }
        assertThat(tracker.outstanding()).isZero();
        assertThat(output.problem()).isNull();
        assertThat(metrics.value("logferry_output_circuit_opened_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void whenTheClusterAnswersAgainTheWorkersGoAtOnceInsteadOfWaitingOutTheBackoff() throws Exception {
        // a backoff of a minute: only the "cluster answers" signal can end the wait within the test's deadline
        output.close();
        output = new ElasticsearchOutput(EsConnection.build(config(Duration.ofSeconds(60), Duration.ofSeconds(60))),
                config(Duration.ofSeconds(60), Duration.ofSeconds(60)), metrics);
        CompletableFuture<Void> up = new CompletableFuture<>();
        script = b -> up.isDone() ? allCreated(b) : new Reply(503, "{\"error\":\"down\",\"status\":503}");
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int w = 0; w < Breaker.MINIMUM_CALLS + 2; w++) {
            List<LogEvent> batch = events(2);
            workers.add(CompletableFuture.runAsync(() -> deliverUnchecked(batch), pool));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> output.problem() != null && output.problem().contains("circuit breaker open"));
        int whileDown = seen.size();
        up.complete(null);
        long t0 = System.nanoTime();
        output.clusterAnswers();
        for (CompletableFuture<Void> w : workers) {
            w.get(30, TimeUnit.SECONDS);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("[fast-resume] unit: %d requests while down, all workers done %d ms after the cluster answered (backoff 60 s)%n",
                whileDown, ms);
        // not a speed target: waiting out the backoff would take 60 s, so half of it tells the two apart on any machine
        assertThat(ms).as("ms from the cluster answering to every batch delivered (backoff 60 s)").isLessThan(30_000);
        assertThat(tracker.outstanding()).isZero();
        assertThat(metrics.value("logferry_output_circuit_resumed_total")).isEqualTo(1);
    }

    @Test
    void nothingIsSentBeforeTheSetupHasRunAndTheSetupRetriesUntilItDoes() throws Exception {
        output.close();
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        CompletableFuture<Void> templateMayGo = new CompletableFuture<>();
        output = new ElasticsearchOutput(EsConnection.build(config(Duration.ofMillis(1), Duration.ofMillis(5))),
                config(Duration.ofMillis(1), Duration.ofMillis(5)), metrics, () -> {
                    attempts.incrementAndGet();
                    if (!templateMayGo.isDone()) {
                        throw new java.net.ConnectException("Connection refused");
                    }
                });
        script = ElasticsearchOutputTest::allCreated;
        output.start();
        List<LogEvent> batch = events(3);
        CompletableFuture<Void> w = CompletableFuture.runAsync(() -> deliverUnchecked(batch), pool);
        await().atMost(Duration.ofSeconds(10)).until(() -> attempts.get() >= 3);
        assertThat(seen).as("bulk requests before the template exists").isEmpty();
        assertThat(w).isNotDone();
        assertThat(output.problem()).startsWith("index template not installed yet");
        assertThat(metrics.prometheus()).contains("\nlogferry_output_ready 0");
        templateMayGo.complete(null);
        w.get(10, TimeUnit.SECONDS);
        assertThat(seen).hasSize(1);
        assertThat(tracker.outstanding()).isZero();
        assertThat(output.problem()).isNull();
        assertThat(metrics.prometheus()).contains("\nlogferry_output_ready 1");
    }

    @Test
    void aMappingConflictIsSentAgainOnceWithTheDecodedFieldsFlattenedAndDeadLetteredOnlyIfRefusedAgain() throws Exception {
        script = b -> switch (seen.size()) {
            // id1: object where another container made a value; id2 as well, and refused again once retyped
            case 1 -> items(item(201, null), item(400, "document_parsing_exception"), item(400, "document_parsing_exception"));
            case 2 -> items(item(201, null), item(400, "document_parsing_exception"));
            default -> allCreated(b);
        };
        output.deliver(events(3));

        assertThat(seen).hasSize(3);
        Bulk second = seen.get(1);
        assertThat(second.id(0)).isEqualTo("id1");
        assertThat(second.index(0)).as("the same data stream, the same _id").isEqualTo("logs-docker-test");
        JsonNode retyped = second.docs().get(0);
        assertThat(retyped.path("message").asText()).isEqualTo("line 1");
        assertThat(retyped.has("f")).isFalse();
        assertThat(retyped.path("logferry").path("flattened").path("f").asInt()).isEqualTo(1);
        assertThat(retyped.path("log").path("flags").toString()).contains("mapping_conflict");
        assertThat(retyped.path("container").path("id").asText()).isEqualTo("c0ffee");
        // refused again once retyped: dead-lettered with the original document
        Bulk third = seen.get(2);
        assertThat(third.id(0)).isEqualTo("id2");
        assertThat(third.index(0)).isEqualTo("logs-logferry.deadletter-test");
        assertThat(JSON.readTree(third.docs().get(0).path("event").path("original").asText()).path("f").asInt()).isEqualTo(2);

        assertThat(tracker.outstanding()).isZero();
        assertThat(metrics.value("logferry_events_retyped_total")).isEqualTo(1);
        assertThat(metrics.value("logferry_events_dead_lettered_total")).isEqualTo(1);
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(2);
    }

    @Test
    void aFailingDestinationALabelChoseIsParkedAfterItsSecondFailureWhileTheOperatorsIsRetriedInPlace() throws Exception {
        output.close();
        // the operator's stream is logs-docker-default: the events' logs-docker-test was a label's choice
        output = new ElasticsearchOutput(EsConnection.build(config(Duration.ofMillis(1), Duration.ofMillis(5))),
                config(Duration.ofMillis(1), Duration.ofMillis(5)), metrics, null, new OperatorTargets("logs-docker-default", null));
        List<List<LogEvent>> parkedHere = Collections.synchronizedList(new ArrayList<>());
        List<Long> delays = Collections.synchronizedList(new ArrayList<>());
        output.parkInto((events, delay) -> {
            parkedHere.add(List.copyOf(events));
            delays.add(delay);
        });
        script = b -> {
            String[] items = new String[b.actions().size()];
            for (int i = 0; i < items.length; i++) {
                items[i] = b.index(i).equals("logs-docker-test") ? item(500, "illegal_state_exception") : item(201, null);
            }
            return items(items);
        };
        List<LogEvent> mine = events(3);
        output.deliver(mine);

        // the first failure retried in place, the second parks all three; nothing acknowledged, nothing lost
        assertThat(seen).hasSize(2);
        assertThat(parkedHere).singleElement().satisfies(p -> assertThat(p).containsExactlyElementsOf(mine));
        assertThat(tracker.outstanding()).isEqualTo(3);
        assertThat(metrics.value("logferry_events_parked_total")).isEqualTo(3);

        // while it keeps failing, the next delivery parks at its first failure, with backoff
        seen.clear();
        output.deliver(mine);
        assertThat(seen).hasSize(1);
        assertThat(parkedHere).hasSize(2);
        assertThat(delays).allSatisfy(d -> assertThat(d).isPositive());

        // once it takes documents again they are delivered and the destination is no longer failing
        script = ElasticsearchOutputTest::allCreated;
        seen.clear();
        output.deliver(mine);
        assertThat(seen).hasSize(1);
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void aWriteBlockOnAStreamALabelChoseParksItsEventsToo() throws Exception {
        output.close();
        output = new ElasticsearchOutput(EsConnection.build(config(Duration.ofMillis(1), Duration.ofMillis(5))),
                config(Duration.ofMillis(1), Duration.ofMillis(5)), metrics, null, new OperatorTargets("logs-docker-default", null));
        List<LogEvent> parkedHere = Collections.synchronizedList(new ArrayList<>());
        output.parkInto((events, delay) -> parkedHere.addAll(events));
        script = b -> {
            String[] items = new String[b.actions().size()];
            for (int i = 0; i < items.length; i++) {
                items[i] = b.id(i).equals("id0") ? item(403, "cluster_block_exception") : item(201, null);
            }
            return items(items);
        };
        List<LogEvent> mine = events(2);
        output.deliver(mine);

        // id1 was created at once; id0, blocked twice in a row, went back to its lane
        assertThat(seen).hasSize(2);
        assertThat(parkedHere).containsExactly(mine.get(0));
        assertThat(metrics.value("logferry_events_blocked_total")).isEqualTo(2);
        assertThat(tracker.outstanding()).isEqualTo(1);
    }

    @Test
    void aFailingOperatorsStreamIsRetriedInPlaceAsEver() throws Exception {
        output.close();
        // the events' logs-docker-test is the operator's own stream here
        output = new ElasticsearchOutput(EsConnection.build(config(Duration.ofMillis(1), Duration.ofMillis(5))),
                config(Duration.ofMillis(1), Duration.ofMillis(5)), metrics, null, new OperatorTargets("logs-docker-test", null));
        List<List<LogEvent>> parkedHere = Collections.synchronizedList(new ArrayList<>());
        output.parkInto((events, delay) -> parkedHere.add(events));
        script = b -> seen.size() <= 4 ? items(item(500, "illegal_state_exception"), item(503, "unavailable_shards_exception"))
                : allCreated(b);
        output.deliver(events(2));

        assertThat(seen).hasSize(5);
        assertThat(parkedHere).isEmpty();
        assertThat(tracker.outstanding()).isZero();
    }

    private Config.Elasticsearch config(Duration backoffInitial, Duration backoffMax) {
        return new Config.Elasticsearch(List.of("http://127.0.0.1:" + server.getAddress().getPort()), "", "", "",
                "", "", Config.TlsVerify.FULL, 100, 1 << 20, Duration.ofMillis(10), 1, Duration.ofSeconds(10),
                backoffInitial, backoffMax, "logs-logferry.deadletter-test");
    }

    private void deliverUnchecked(List<LogEvent> batch) {
        try {
            output.deliver(batch);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
