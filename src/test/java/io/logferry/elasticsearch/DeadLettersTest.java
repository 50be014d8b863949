package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.decode.Message;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLettersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff";
    private final DeadLetters letters = new DeadLetters("logs-logferry.deadletter-ops",
            Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC));

    /** An event as a tailer queues it: encoded by the document builder. */
    private static LogEvent event(String text, long offset) {
        ContainerInfo c = new ContainerInfo(ID, "/shop-web-1", "nginx:1.27", Map.of(), "/logs/" + ID + "-json.log", "json-file", true);
        ContainerSettings s = TestSettings.of("nginx", "prod", Streams.ALL, StartPosition.BEGINNING,
                TestSettings.NO_MULTILINE, false, "", 1 << 20, List.of(), List.of(), Map.of());
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "agent-1", "host-1"), null);
        Message m = new Message("stdout", "2026-12-01T09:59:59.123456789Z", text, new Cursor(1, "9f86d081884c7d65", offset),
                new Cursor(1, "9f86d081884c7d65", offset + 40), 0, null, null, null);
        return b.encode(m, new AckTracker(ID, null));
    }

    private static JsonNode[] lines(byte[] letter) throws Exception {
        String s = new String(letter, StandardCharsets.UTF_8);
        assertThat(s).endsWith("\n");
        String[] l = s.substring(0, s.length() - 1).split("\n", -1);
        assertThat(l).hasSize(2);
        return new JsonNode[] {JSON.readTree(l[0]), JSON.readTree(l[1])};
    }

    @Test
    void theLetterKeepsTheIdAndNamesTheIndexTheStatusTheErrorAndTheOriginal() throws Exception {
        LogEvent e = event("level=warn msg=\"disk\"", 4096);
        JsonNode[] l = lines(letters.letter(e, 400, "document_parsing_exception", "failed to parse field [log.level]"));

        // the _id the document builder gave it (DocumentBuilderTest pins it), so that a replay finds the letter there
        assertThat(l[0].at("/create/_index").asText()).isEqualTo("logs-logferry.deadletter-ops");
        assertThat(l[0].at("/create/_id").asText()).isEqualTo("1Qx5XFvbg40AAAAAAAAQAA").isEqualTo(e.id());
        JsonNode d = l[1];
        assertThat(d.at("/@timestamp").asText()).isEqualTo("2026-12-01T10:00:00Z");
        assertThat(d.at("/message").asText()).isEqualTo("failed to parse field [log.level]");
        assertThat(d.at("/error/type").asText()).isEqualTo("document_parsing_exception");
        assertThat(d.at("/error/code").asText()).isEqualTo("400");
        assertThat(d.has("http")).as("the item status is not an HTTP response of the application's").isFalse();
        assertThat(d.at("/ecs/version").asText()).isEqualTo(io.logferry.model.Ecs.VERSION);
        assertThat(d.at("/agent/id").asText()).isEqualTo("agent-1");
        assertThat(d.at("/agent/type").asText()).isEqualTo("logferry");
        assertThat(d.at("/host/name").asText()).isEqualTo("host-1");
        assertThat(d.at("/container/id").asText()).isEqualTo(ID);
        assertThat(d.at("/document/index").asText()).isEqualTo("logs-nginx-prod");
        assertThat(d.at("/data_stream/dataset").asText()).isEqualTo("logferry.deadletter");
        assertThat(d.at("/data_stream/namespace").asText()).isEqualTo("ops");
        assertThat(d.at("/event/dataset").asText()).isEqualTo("logferry.deadletter");
        JsonNode original = JSON.readTree(d.at("/event/original").asText());
        assertThat(original.at("/message").asText()).isEqualTo("level=warn msg=\"disk\"");
        assertThat(original.at("/container/name").asText()).as("the whole document, shared tail included").isEqualTo("shop-web-1");
    }

    @Test
    void theIdAndIndexComeFromTheEventNotFromItsActionLine() throws Exception {
        // an event whose fields and action line disagree: the fields win (the action line is never read back)
        byte[] head = "{\"create\":{\"_index\":\"not-this\",\"_id\":\"nor-this\"}}\n{\"message\":\"m\"}\n".getBytes(StandardCharsets.UTF_8);
        String fieldsId = "abcdefghijklmnopqrstuv";
        byte[] withId = new byte[head.length + fieldsId.length()];
        System.arraycopy(head, 0, withId, 0, head.length);
        System.arraycopy(fieldsId.getBytes(StandardCharsets.US_ASCII), 0, withId, head.length, fieldsId.length());
        int docStart = head.length - "{\"message\":\"m\"}\n".length();
        // the id's characters lie where the encoder said they are: here, past the lines (a test-only layout)
        LogEvent e = new LogEvent(new AckTracker("c1", null), withId, null, docStart, new Cursor(1, "f", 1), "logs-the-index",
                head.length, withId.length);
        assertThat(e.id()).isEqualTo(fieldsId);
        assertThat(e.index()).isEqualTo("logs-the-index");
    }

    @Test
    void anEventWithoutIdOrIndexStillGetsALetter() throws Exception {
        byte[] bytes = "{\"create\":{}}\n{\"message\":\"m\"}\n".getBytes(StandardCharsets.UTF_8);
        LogEvent e = new LogEvent(new AckTracker("c1", null), bytes, "{\"create\":{}}\n".length(), new Cursor(1, "f", 1));
        JsonNode[] l = lines(letters.letter(e, 413, "request_refused", null));
        assertThat(l[0].at("/create").has("_id")).isFalse();
        assertThat(l[1].at("/message").asText()).isEqualTo("refused");
        assertThat(l[1].at("/document/index").asText()).isEqualTo("null");
    }

    @Test
    void aLongOriginalIsCutAndAStreamNameOutsideTheRulesFallsBack() throws Exception {
        LogEvent e = event("x".repeat(100_000), 0);
        JsonNode[] l = lines(new DeadLetters("deadletters", Clock.systemUTC()).letter(e, 400, "t", "r"));
        assertThat(l[1].at("/event/original").asText()).hasSize(DeadLetters.MAX_ORIGINAL);
        assertThat(l[1].at("/data_stream/dataset").asText()).isEqualTo("logferry.deadletter");
        assertThat(l[1].at("/data_stream/namespace").asText()).isEqualTo("default");
    }
}
