package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.decode.Message;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LinePattern;
import io.logferry.model.ProcessorChain;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The ingest pipeline on the create line, and where the fields processors leave land in the document. */
class DocumentProcessingTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ContainerInfo C = new ContainerInfo("abc123", "web", "nginx:1", Map.of(), "", "json-file", true);

    private static ContainerSettings settings(String pipeline) {
        return TestSettings.of("docker", "default", Streams.ALL, StartPosition.BEGINNING, TestSettings.NO_MULTILINE,
                false, "", 1 << 20, List.<LinePattern>of(), List.<LinePattern>of(), Map.of("team", "pay")).withProcessing(pipeline,
                ProcessorChain.NONE);
    }

    private static JsonNode[] build(String pipeline, Message m) throws Exception {
        DocumentBuilder b = new DocumentBuilder(C, settings(pipeline), new DocumentBuilder.AgentInfo("1", "a", "h"), "/x.log");
        String[] lines = new String(b.build(m, new int[1]), StandardCharsets.UTF_8).split("\n");
        // the document must be one JSON object without duplicate keys (Elasticsearch refuses those)
        return new JsonNode[] {MAPPER.readTree(lines[0]),
                MAPPER.copy().enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(lines[1])};
    }

    private static Message msg(String text, int flags, String level, Map<String, Object> fields) {
        return new Message("stdout", "2024-05-01T10:00:00Z", text, new Cursor(0, "f", 7), new Cursor(0, "f", 9), flags,
                null, level, null, Map.of(), null, fields);
    }

    @Test
    void thePipelineIsOnTheCreateLine() throws Exception {
        JsonNode[] d = build("logs-nginx", msg("x", 0, null, null));
        assertThat(d[0].get("create").get("pipeline").asText()).isEqualTo("logs-nginx");
        assertThat(d[0].get("create").get("_index").asText()).isEqualTo("logs-docker-default");
        assertThat(build(null, msg("x", 0, null, null))[0].get("create").has("pipeline")).isFalse();
    }

    @Test
    void theOutputFindsThePipelineOfARefusedEvent() {
        DocumentBuilder b = new DocumentBuilder(C, settings("my \"p\""), new DocumentBuilder.AgentInfo("1", "a", "h"), "/x.log");
        assertThat(ElasticsearchOutput.pipelineOf(b.encode(msg("x", 0, null, null), new io.logferry.model.AckTracker("abc123", null))))
                .isEqualTo("my \\\"p\\\"");
        DocumentBuilder none = new DocumentBuilder(C, settings(null), new DocumentBuilder.AgentInfo("1", "a", "h"), "/x.log");
        assertThat(ElasticsearchOutput.pipelineOf(none.encode(msg("pipeline", 0, null, null), new io.logferry.model.AckTracker("abc123", null))))
                .isNull();
    }

    @Test
    void processedFieldsGoWhereTheyAreNamedButNeverOverTheDocumentsOwn() throws Exception {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("dissect", Map.of("a", "1"));
        f.put("http", Map.of("response", Map.of("status_code", 200L)));
        f.put("log", Map.of("logger", "main", "offset", 99L));
        f.put("labels", Map.of("env", "prod"));
        f.put("event", Map.of("dataset", "evil", "kind", "event"));
        f.put("data_stream", Map.of("dataset", "evil"));
        f.put("container", "x");
        f.put("tags", List.of("t"));
        f.put("json", Map.of("stream", "s"));
        JsonNode doc = build(null, msg("text", Message.DISSECT_ERROR, "WARN", f))[1];
        assertThat(doc.get("message").asText()).isEqualTo("text");
        assertThat(doc.get("dissect").get("a").asText()).isEqualTo("1");
        assertThat(doc.get("http").get("response").get("status_code").asLong()).isEqualTo(200);
        assertThat(doc.get("log").get("level").asText()).isEqualTo("WARN");
        assertThat(doc.get("log").get("offset").asLong()).isEqualTo(7);
        assertThat(doc.get("log").get("flags").toString()).isEqualTo("[\"dissect_parsing_error\"]");
        assertThat(doc.get("log").get("logger").asText()).as("inside the document's log object").isEqualTo("main");
        assertThat(doc.get("labels.env").asText()).isEqualTo("prod");
        assertThat(doc.get("labels").get("team").asText()).isEqualTo("pay");
        assertThat(doc.get("event.kind").asText()).isEqualTo("event");
        assertThat(doc.get("event").get("dataset").asText()).isEqualTo("docker");
        assertThat(doc.get("data_stream").get("dataset").asText()).isEqualTo("docker");
        assertThat(doc.get("tags").toString()).isEqualTo("[\"t\"]");
        assertThat(doc.get("json").toString()).isEqualTo(
                "{\"log\":{\"offset\":99},\"event\":{\"dataset\":\"evil\"},\"data_stream\":{\"dataset\":\"evil\"},\"container\":\"x\","
                        + "\"stream\":\"s\"}");
    }

    @Test
    void aMessageTheProcessorsRemovedIsLeftOut() throws Exception {
        JsonNode doc = build(null, msg(null, 0, null, Map.of("rest", "r")))[1];
        assertThat(doc.has("message")).isFalse();
        assertThat(doc.get("rest").asText()).isEqualTo("r");
    }
}
