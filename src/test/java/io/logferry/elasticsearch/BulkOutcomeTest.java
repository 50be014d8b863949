package io.logferry.elasticsearch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BulkOutcomeTest {

    @ParameterizedTest(name = "item {0} {1} ({2}) -> mapping conflict {3}")
    @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
            400 | document_parsing_exception | object mapping for [status] tried to parse field [status] as object, but found a concrete value | true
            400 | document_parsing_exception | failed to parse field [status] of type [long] in document | true
            400 | mapper_parsing_exception   | failed to parse | true
            400 | illegal_argument_exception | mapper [f] cannot be changed from type [long] to [ObjectMapper] | true
            400 | illegal_argument_exception | pipeline with id [x] does not exist | false
            400 | illegal_argument_exception | null | false
            400 | null                       | null | false
            403 | security_exception         | unauthorized | false
            500 | document_parsing_exception | null | false
            """)
    void aMappingConflictIsTold(int status, String type, String reason, boolean conflict) {
        assertThat(BulkOutcome.mappingConflict(status, type, reason)).isEqualTo(conflict);
    }

    @ParameterizedTest(name = "item {0} {1} -> {2}")
    @CsvSource(nullValues = "null", value = {
            "200, null, DELIVERED",
            "201, null, DELIVERED",
            "409, version_conflict_engine_exception, DELIVERED",
            "429, es_rejected_execution_exception, RETRY",
            "429, circuit_breaking_exception, RETRY",
            "408, null, RETRY",
            "500, null, RETRY",
            "502, null, RETRY",
            "503, unavailable_shards_exception, RETRY",
            "504, null, RETRY",
            "403, cluster_block_exception, BLOCKED",
            "403, index_block_exception, BLOCKED",
            // no privilege on that index: not a block, never retried forever
            "403, security_exception, FORBIDDEN",
            "403, null, FORBIDDEN",
            "403, access_denied_exception, FORBIDDEN",
            "401, security_exception, FORBIDDEN",
            "401, null, FORBIDDEN",
            "400, mapper_parsing_exception, DEAD_LETTER",
            "400, document_parsing_exception, DEAD_LETTER",
            "400, illegal_argument_exception, DEAD_LETTER",
            "404, index_not_found_exception, DEAD_LETTER",
            "413, null, DEAD_LETTER",
            // a response without a status says nothing was stored: never count it delivered
            "0, null, RETRY",
            "100, null, RETRY",
            "302, null, RETRY",
    })
    void items(int status, String type, BulkOutcome.Item expected) {
        assertThat(BulkOutcome.item(status, type)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "request {0} -> {1}")
    @CsvSource({
            "413, SPLIT",
            "0, RETRY_ALL",
            "401, RETRY_ALL",
            "403, RETRY_ALL",
            "429, RETRY_ALL",
            "500, RETRY_ALL",
            "502, RETRY_ALL",
            "503, RETRY_ALL",
            "504, RETRY_ALL",
    })
    void requests(int status, BulkOutcome.Request expected) {
        assertThat(BulkOutcome.request(status)).isEqualTo(expected);
    }

    /** A whole request is held as blocked by its error type, never by words in its message. */
    @ParameterizedTest(name = "request {0} {1} -> {2}")
    @CsvSource(nullValues = "null", value = {
            "403, cluster_block_exception, BLOCKED",
            "403, index_block_exception, BLOCKED",
            "403, security_exception, RETRY_ALL",
            "403, null, RETRY_ALL",
            "401, cluster_block_exception, RETRY_ALL",
            "429, cluster_block_exception, RETRY_ALL",
            "503, null, RETRY_ALL",
            "413, null, SPLIT",
            "400, illegal_argument_exception, SPLIT",
            "0, null, RETRY_ALL",
    })
    void requestsWithTheirErrorType(int status, String type, BulkOutcome.Request expected) {
        assertThat(BulkOutcome.request(status, type)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "error type of {0}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "{\"error\":{\"root_cause\":[{\"type\":\"x\"}],\"type\":\"cluster_block_exception\",\"reason\":\"blocked by: [FORBIDDEN/6/cluster read-only (api)];\"},\"status\":403} | cluster_block_exception",
            "{\"status\":403,\"error\":{\"reason\":\"r\",\"type\":\"security_exception\"}} | security_exception",
            "{\"error\":\"blocked\",\"status\":503} | null",
            "{\"error\":{\"type\":{\"odd\":1}}} | null",
            "<html><body>403 Forbidden: blocked by proxy</body></html> | null",
            "'' | null",
    })
    void theErrorTypeOfARefusedRequest(String body, String expected) {
        assertThat(BulkResponse.errorType(stream(body))).isEqualTo(expected);
        assertThat(BulkResponse.errorType(null)).isNull();
    }

    // ---- BulkResponse.parse on canned bulk responses ----

    private static List<BulkResponse.Result> parse(String json) throws IOException {
        return BulkResponse.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aFullBulkResponse() throws IOException {
        String body = """
                {"took":30,"ingest_took":1,"errors":true,"items":[
                 {"create":{"_index":".ds-logs-docker-default-2024.05.01-000001","_id":"a","_version":1,"result":"created",
                   "_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},
                 {"create":{"_index":".ds-logs-docker-default-2024.05.01-000001","_id":"b","status":409,
                   "error":{"type":"version_conflict_engine_exception","reason":"[b]: version conflict, document already exists (current version [1])",
                            "index_uuid":"u","shard":"0","index":".ds-logs-docker-default-2024.05.01-000001"}}},
                 {"create":{"_index":".ds-logs-docker-default-2024.05.01-000001","_id":"c","status":400,
                   "error":{"type":"document_parsing_exception","reason":"[1:15] failed to parse field [log.level] of type [keyword]",
                            "caused_by":{"type":"illegal_state_exception","reason":"Can't get text on a START_OBJECT at 1:15"}}}},
                 {"create":{"_index":".ds-logs-docker-default-2024.05.01-000001","_id":"d","status":429,
                   "error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},
                 {"create":{"_index":"logs-docker-default","_id":"e","status":403,
                   "error":{"type":"cluster_block_exception","reason":"index [logs-docker-default] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"}}}
                ]}""";
        List<BulkResponse.Result> r = parse(body);
        assertThat(r).extracting(BulkResponse.Result::status).containsExactly(201, 409, 400, 429, 403);
        assertThat(r).extracting(BulkResponse.Result::type).containsExactly(null, "version_conflict_engine_exception",
                "document_parsing_exception", "es_rejected_execution_exception", "cluster_block_exception");
        assertThat(r.get(2).reason()).isEqualTo("[1:15] failed to parse field [log.level] of type [keyword]");
        assertThat(r.get(0).index()).isEqualTo(".ds-logs-docker-default-2024.05.01-000001");
        assertThat(r).extracting(x -> BulkOutcome.item(x.status(), x.type())).containsExactly(BulkOutcome.Item.DELIVERED,
                BulkOutcome.Item.DELIVERED, BulkOutcome.Item.DEAD_LETTER, BulkOutcome.Item.RETRY, BulkOutcome.Item.BLOCKED);
    }

    @Test
    void filterPathResponses() throws IOException {
        // filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason (and items.*._index while blocks are watched)
        List<BulkResponse.Result> ok = parse("{\"errors\":false,\"items\":[{\"create\":{\"_index\":\"i\",\"status\":201}},"
                + "{\"create\":{\"_index\":\"i\",\"status\":201}},{\"index\":{\"status\":200}}]}");
        assertThat(ok).extracting(BulkResponse.Result::status).containsExactly(201, 201, 200);

        List<BulkResponse.Result> mixed = parse("{\"errors\":true,\"items\":[{\"create\":{\"status\":201,\"_index\":\"i\"}},"
                + "{\"create\":{\"error\":{\"reason\":\"r\",\"type\":\"mapper_parsing_exception\"},\"status\":400}},"
                + "{\"create\":{\"status\":503,\"error\":{\"type\":\"unavailable_shards_exception\"}}}]}");
        assertThat(mixed).extracting(BulkResponse.Result::status).containsExactly(201, 400, 503);
        assertThat(mixed.get(1).type()).isEqualTo("mapper_parsing_exception");
        assertThat(mixed.get(1).reason()).isEqualTo("r");
        assertThat(mixed.get(2).reason()).isNull();

        // items before errors, whitespace, and an empty item list (filter_path drops it)
        assertThat(parse(" {\n \"items\" : [ { \"create\" : { \"status\" : 201 } } ] ,\n \"errors\" : false }\n"))
                .extracting(BulkResponse.Result::status).containsExactly(201);
        assertThat(parse("{\"errors\":false}")).isEmpty();
        assertThat(parse("{}")).isEmpty();
    }

    @Test
    void aResponseWithoutErrorsIsNotReadFurtherUnlessItsItemsAreWanted() throws IOException {
        String ok = "{\"errors\":false,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}}]}";
        // null: every item was created, and the items were not parsed
        assertThat(BulkResponse.parse(stream(ok), false)).isNull();
        assertThat(BulkResponse.parse(stream(ok), true)).extracting(BulkResponse.Result::status).containsExactly(201, 201);
        // errors, or items before the errors flag: every item is read
        assertThat(BulkResponse.parse(stream("{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
                + "{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\"}}}]}"), false))
                .extracting(BulkResponse.Result::status).containsExactly(201, 429);
        assertThat(BulkResponse.parse(stream("{\"items\":[{\"create\":{\"status\":201}}],\"errors\":false}"), false))
                .extracting(BulkResponse.Result::status).containsExactly(201);
        assertThatThrownBy(() -> BulkResponse.parse(stream("<html>502 Bad Gateway</html>"), false)).isInstanceOf(IOException.class);
    }

    private static java.io.InputStream stream(String s) {
        return new java.io.ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anItemWithoutAStatusIsNeverDelivered() throws IOException {
        List<BulkResponse.Result> r = parse("{\"errors\":false,\"items\":[{\"create\":{\"_index\":\"i\"}}]}");
        assertThat(r).hasSize(1);
        assertThat(BulkOutcome.item(r.get(0).status(), r.get(0).type())).isNotEqualTo(BulkOutcome.Item.DELIVERED);
    }

    @Test
    void notABulkResponse() {
        assertThatThrownBy(() -> parse("[1,2]")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> parse("")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> parse("<html>502 Bad Gateway</html>")).isInstanceOf(IOException.class);
    }
}
