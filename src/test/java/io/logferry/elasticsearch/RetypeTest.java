package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class RetypeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final AckTracker tracker = new AckTracker("c1", null);
    private static final String ACTION = "{\"create\":{\"_index\":\"logs-docker-default\",\"pipeline\":\"p\",\"_id\":\"AAAAAAAAAAAAAAAAAAAAAA\"}}\n";
    private static final byte[] TAIL = (",\"container\":{\"id\":\"c1\",\"name\":\"web\"},\"host\":{\"name\":\"h\"},\"agent\":{\"type\":\"logferry\"},"
            + "\"data_stream\":{\"type\":\"logs\",\"dataset\":\"docker\",\"namespace\":\"default\"},\"event\":{\"dataset\":\"docker\"},"
            + "\"ecs\":{\"version\":\"9.1.0\"}}\n").getBytes(StandardCharsets.UTF_8);

    private LogEvent event(String ownPart) {
        byte[] head = (ACTION + ownPart).getBytes(StandardCharsets.UTF_8);
        return new LogEvent(tracker, head, TAIL, ACTION.length(), new Cursor(1, "f", 10), "logs-docker-default", -1, -1);
    }

    private static JsonNode[] lines(byte[] bulk) throws Exception {
        String[] l = new String(bulk, StandardCharsets.UTF_8).split("\n", -1);
        assertThat(l).hasSize(3);
        assertThat(l[2]).isEmpty();
        return new JsonNode[] {JSON.readTree(l[0]), JSON.readTree(l[1])};
    }

    @Test
    void theContentsFieldsMoveUnderTheFlattenedFieldAndWhatTheAgentWroteStaysAsItWas() throws Exception {
        LogEvent e = event("{\"@timestamp\":\"2026-12-07T20:00:00.123456789Z\",\"message\":\"hi\",\"stream\":\"stdout\","
                + "\"log\":{\"offset\":10,\"file\":{\"path\":\"/x/c1-json.log\"},\"level\":\"warn\",\"logger\":\"app\"},"
                + "\"status\":{\"x\":1},\"big\":12345678901234567890.123456789,\"event.action\":\"a\",\"json\":{\"host\":\"web-1\"},"
                + "\"docker.attrs\":{\"k\":\"v\"}");
        byte[] out = Retype.document(e);
        assertThat(out).isNotNull();
        // the action line byte for byte: the same _id, index and pipeline
        assertThat(Arrays.copyOf(out, ACTION.length())).isEqualTo(ACTION.getBytes(StandardCharsets.UTF_8));
        // the container's constant part byte for byte
        assertThat(Arrays.copyOfRange(out, out.length - TAIL.length, out.length)).isEqualTo(TAIL);
        JsonNode d = lines(out)[1];
        assertThat(d.path("@timestamp").asText()).isEqualTo("2026-12-07T20:00:00.123456789Z");
        assertThat(d.path("message").asText()).isEqualTo("hi");
        assertThat(d.path("stream").asText()).isEqualTo("stdout");
        assertThat(d.at("/log/offset").asLong()).isEqualTo(10);
        assertThat(d.at("/log/file/path").asText()).isEqualTo("/x/c1-json.log");
        assertThat(d.at("/log/level").asText()).isEqualTo("warn");
        assertThat(d.at("/log/flags").toString()).isEqualTo("[\"mapping_conflict\"]");
        assertThat(d.path("docker.attrs").path("k").asText()).isEqualTo("v");
        assertThat(d.at("/container/id").asText()).isEqualTo("c1");
        assertThat(d.at("/data_stream/namespace").asText()).isEqualTo("default");
        JsonNode moved = d.at("/logferry/flattened");
        assertThat(moved.at("/status/x").asInt()).isEqualTo(1);
        assertThat(moved.path("log.logger").asText()).isEqualTo("app");
        assertThat(moved.path("event.action").asText()).isEqualTo("a");
        assertThat(moved.at("/json/host").asText()).isEqualTo("web-1");
        // numbers exactly as the line wrote them
        assertThat(new String(out, StandardCharsets.UTF_8)).contains("12345678901234567890.123456789");
        assertThat(d.has("status")).isFalse();
        assertThat(d.has("json")).isFalse();
    }

    @Test
    void existingFlagsAreKeptAndTheAgentsJsonErrorStays() throws Exception {
        LogEvent e = event("{\"@timestamp\":\"t\",\"message\":\"m\",\"stream\":\"stderr\",\"log\":{\"offset\":1,\"flags\":[\"truncated\"]},"
                + "\"error\":{\"type\":\"json\",\"message\":\"not an object\"},\"x\":[1,{\"y\":2}]");
        JsonNode d = lines(Retype.document(e))[1];
        assertThat(d.at("/log/flags").toString()).isEqualTo("[\"truncated\",\"mapping_conflict\"]");
        assertThat(d.at("/error/type").asText()).isEqualTo("json");
        assertThat(d.at("/logferry/flattened/x/1/y").asInt()).isEqualTo(2);
    }

    @Test
    void nothingToMoveTooDeepOrNotJsonHasNoSecondChance() {
        assertThat(Retype.document(event("{\"@timestamp\":\"t\",\"message\":\"m\",\"stream\":\"stdout\",\"log\":{\"offset\":1}"))).isNull();
        assertThat(Retype.document(event("{\"@timestamp\":\"t\",\"x\":" + "[".repeat(200) + "]".repeat(200)))).isNull();
        assertThat(Retype.document(event("{\"@timestamp\":"))).isNull();
        // an application's own error object is content: it moves
        assertThat(Retype.document(event("{\"@timestamp\":\"t\",\"error\":{\"type\":\"json\",\"message\":{\"a\":1}}"))).isNotNull();
    }
}
