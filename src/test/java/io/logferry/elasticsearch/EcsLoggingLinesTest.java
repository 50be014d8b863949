package io.logferry.elasticsearch;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import co.elastic.logging.logback.EcsEncoder;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.decode.JsonMessage;
import io.logferry.decode.Message;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.Ecs;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real ECS log lines of ECS-logging libraries, decoded ({@link JsonMessage}) and built into a
 * document ({@link DocumentBuilder}): their ECS fields stay at their ECS names, the agent's own
 * fields win. logback-ecs-encoder's line is produced by the encoder itself; the others are
 * written in the shape their documentation shows (ecs-logging-python, @elastic/ecs-pino-format,
 * ecszap), one with an error each where the library has one.
 */
class EcsLoggingLinesTest {
    private static final ObjectMapper STRICT = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    private static final String ID = "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff";
    private static final String TIME = "2026-12-01T10:00:00.123456789Z";

    /** One library's line, and what its document must hold (JSON pointer → text; null: absent). */
    record Row(String library, String line, boolean ecs, Map<String, String> expect) { }

    private static Map<String, String> expect(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** A line of logback-ecs-encoder 1.7.0, with an exception: the library's own output. */
    static String logbackLine() {
        LoggerContext ctx = new LoggerContext();
        ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        EcsEncoder encoder = new EcsEncoder();
        encoder.setContext(ctx);
        encoder.setServiceName("checkout");
        encoder.setServiceVersion("2.1.0");
        encoder.start();
        Logger logger = ctx.getLogger("shop.Payments");
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.ERROR, "payment {} failed",
                new IllegalStateException("card declined"), new Object[] {"o-17"});
        event.setThreadName("http-nio-8080-exec-1");
        event.setTimeStamp(java.time.Instant.parse("2026-12-01T10:00:00.123Z").toEpochMilli());
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8).trim();
        encoder.stop();
        return line;
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("logback-ecs-encoder 1.7.0", logbackLine(), true, expect(
                "/message", "payment o-17 failed",
                "/log/level", "ERROR",
                "/log/logger", "shop.Payments",
                "/error/type", "java.lang.IllegalStateException",
                "/error/message", "card declined",
                "/process/thread/name", "http-nio-8080-exec-1",
                "/service/name", "checkout",
                "/service/version", "2.1.0")));
        rows.add(new Row("ecs-logging-python", "{\"@timestamp\":\"2026-12-01T10:00:00.123Z\",\"log.level\":\"error\","
                + "\"message\":\"division failed\",\"ecs.version\":\"1.6.0\",\"error\":{\"message\":\"division by zero\","
                + "\"stack_trace\":\"  File \\\"app.py\\\", line 14, in <module>\\n    1 / 0\\n\",\"type\":\"ZeroDivisionError\"},"
                + "\"log\":{\"logger\":\"app\",\"origin\":{\"file\":{\"line\":14,\"name\":\"app.py\"},\"function\":\"<module>\"},"
                + "\"original\":\"division failed\"},\"process\":{\"name\":\"MainProcess\",\"pid\":3044,"
                + "\"thread\":{\"id\":140000,\"name\":\"MainThread\"}}}", true, expect(
                "/message", "division failed",
                "/log/level", "error",
                "/log/logger", "app",
                "/log/origin/file/line", "14",
                "/log/origin/function", "<module>",
                "/error/type", "ZeroDivisionError",
                "/error/stack_trace", "  File \"app.py\", line 14, in <module>\n    1 / 0\n",
                "/process/thread/name", "MainThread")));
        rows.add(new Row("@elastic/ecs-pino-format", "{\"log.level\":\"error\",\"@timestamp\":\"2026-12-01T10:00:00.123Z\","
                + "\"process.pid\":82240,\"host.hostname\":\"pink.local\",\"ecs.version\":\"8.10.0\",\"service.name\":\"cart\","
                + "\"error\":{\"type\":\"Error\",\"message\":\"boom\",\"stack_trace\":\"Error: boom\\n    at Object.<anonymous> "
                + "(/app/index.js:8:12)\"},\"message\":\"request failed\"}", true, expect(
                "/message", "request failed",
                "/log/level", "error",
                "/process/pid", "82240",
                "/error/stack_trace", "Error: boom\n    at Object.<anonymous> (/app/index.js:8:12)",
                "/json/host/hostname", "pink.local",
                "/host/name", "docker-host-7")));
        rows.add(new Row("ecszap", "{\"log.level\":\"error\",\"@timestamp\":\"2026-12-01T10:00:00.123Z\","
                + "\"log.origin\":{\"file.name\":\"main/main.go\",\"file.line\":265},\"message\":\"some logging info\","
                + "\"ecs.version\":\"1.6.0\",\"error\":{\"message\":\"boom\",\"stack_trace\":\"main.main\\n\\t/app/main.go:265\"},"
                + "\"custom\":\"foo\"}", true, expect(
                "/message", "some logging info",
                "/log/origin/file/name", "main/main.go",
                "/log/origin/file/line", "265",
                "/error/stack_trace", "main.main\n\t/app/main.go:265",
                "/custom", "foo")));
        rows.add(new Row("ECS shape without ecs.version", "{\"@timestamp\":\"2026-12-01T10:00:00.123Z\",\"log\":{\"level\":\"warn\","
                + "\"logger\":\"w\"},\"message\":\"slow\"}", true, expect(
                "/log/level", "warn", "/log/logger", "w")));
        rows.add(new Row("pino, default format (not ECS)", "{\"level\":30,\"time\":1531171074631,\"pid\":657,\"hostname\":\"box\","
                + "\"msg\":\"hello world\"}", false, expect(
                "/message", "hello world", "/log/level", "30", "/hostname", "box", "/pid", "657", "/time", "1531171074631")));
        rows.add(new Row("plain JSON with ECS names (not ECS)", "{\"message\":\"x\",\"service\":\"billing\",\"user\":\"bob\","
                + "\"http\":\"GET\",\"url\":\"/a\",\"log.logger\":\"l\"}", false, expect(
                "/json/service", "billing", "/json/user", "bob", "/json/http", "GET", "/json/url", "/a",
                "/json/log/logger", "l", "/service/name", "web")));
        return rows;
    }

    @Test
    void eachLibrarysLineKeepsItsEcsNames() throws Exception {
        ContainerInfo c = new ContainerInfo(ID, "/shop-web-1", "shop/web:1.4", Map.of("com.docker.compose.service", "web"),
                "/logs", "json-file", true);
        int checked = 0;
        for (Row row : rows()) {
            // the plain-JSON rows run in a container that has a compose service; the ECS ones in one without
            ContainerInfo in = row.ecs() ? new ContainerInfo(ID, "/shop-web-1", "shop/web:1.4", Map.of(), "/logs", "json-file", true) : c;
            DocumentBuilder b = new DocumentBuilder(in, settings(), new DocumentBuilder.AgentInfo("0.1.0", "agent-1", "docker-host-7"),
                    "/logs/x-json.log");
            JsonMessage.Result r = JsonMessage.decode(row.line(), "");
            assertThat(r.error()).as(row.library()).isNull();
            assertThat(r.ecs()).as("%s: ECS detected", row.library()).isEqualTo(row.ecs());
            Message m = new Message("stdout", TIME, r.text(), new Cursor(1, "f", 0), new Cursor(1, "f", 10), 0, r.fields(),
                    r.level(), null);
            int[] start = new int[1];
            byte[] bytes = b.build(m, start);
            JsonNode doc = STRICT.readTree(new String(bytes, start[0], bytes.length - start[0], StandardCharsets.UTF_8));
            for (Map.Entry<String, String> e : row.expect().entrySet()) {
                assertThat(doc.at(e.getKey()).asText()).as("%s: %s in %s", row.library(), e.getKey(), doc).isEqualTo(e.getValue());
                checked++;
            }
            // the agent's own fields always win
            assertThat(doc.get("@timestamp").asText()).as(row.library()).isEqualTo(TIME);
            assertThat(doc.at("/container/id").asText()).isEqualTo(ID);
            assertThat(doc.at("/host/name").asText()).isEqualTo("docker-host-7");
            assertThat(doc.at("/ecs/version").asText()).as("the document's, not the line's").isEqualTo(Ecs.VERSION);
            assertThat(doc.at("/event/dataset").asText()).isEqualTo("docker");
            assertThat(doc.at("/log/offset").asLong()).isZero();
            if (row.ecs()) {
                assertThat(doc.at("/json/@timestamp").asText()).as("the line's own time is kept").startsWith("2026-12-01T10:00:00.123");
            }
        }
        System.out.println("ECS-logging lines: " + rows().size() + " libraries' lines, " + checked + " fields checked");
    }

    @Test
    void logbackEcsEncoderWritesWhatTheDetectionLooksFor() throws Exception {
        JsonNode line = STRICT.readTree(logbackLine());
        assertThat(line.has("ecs.version") || line.path("ecs").has("version")).isTrue();
        assertThat(line.path("error.stack_trace").asText()).contains("java.lang.IllegalStateException: card declined");
        JsonMessage.Result r = JsonMessage.decode(logbackLine(), "");
        ContainerInfo c = new ContainerInfo(ID, "/w", "w", Map.of(), "/logs", "json-file", true);
        DocumentBuilder b = new DocumentBuilder(c, settings(), new DocumentBuilder.AgentInfo("0.1.0", "agent-1", "h"), null);
        int[] start = new int[1];
        byte[] bytes = b.build(new Message("stdout", TIME, r.text(), new Cursor(1, "api-stdout", 5), new Cursor(1, "api-stdout", 6), 0,
                r.fields(), r.level(), null), start);
        JsonNode doc = STRICT.readTree(new String(bytes, start[0], bytes.length - start[0], StandardCharsets.UTF_8));
        assertThat(doc.at("/error/stack_trace").asText()).contains("card declined").contains("at ");
        assertThat(doc.at("/log/logger").asText()).isEqualTo("shop.Payments");
        assertThat(doc.has("log.offset")).isFalse();
        assertThat(doc.at("/log/offset").isMissingNode()).as("API mode: no file offset").isTrue();
        assertThat(doc.at("/docker.api/position").asLong()).isEqualTo(5);
    }

    private static ContainerSettings settings() {
        return TestSettings.of("docker", "default", Streams.ALL, StartPosition.BEGINNING, TestSettings.NO_MULTILINE,
                true, "", 1 << 20, List.of(), List.of(), Map.of());
    }
}
