package io.logferry.tail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.config.Config;
import io.logferry.decode.Encoder;
import io.logferry.decode.Failure;
import io.logferry.decode.JsonFileReader;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.LogEvent;
import io.logferry.model.ProcessorChain;
import io.logferry.pipeline.EventQueue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Containment at the line's boundary: a line whose processors or encoder throw (an exception, a
 * real {@link StackOverflowError}) costs that line only. It is dead-lettered as read, with the
 * error; the lines after it flow; and the offset moves over it once everything is acknowledged.
 */
class ContainmentTest {
    private static final String DEAD_LETTER = "logs-logferry.deadletter-test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final AckTracker tracker = new AckTracker("c1", null);
    private final EventQueue queue = new EventQueue(1000, 1 << 24);
    private final Metrics metrics = new Metrics();

    /** A processor chain with a bug: throws on "BOOM", overflows the stack on "DEEP". */
    private static final ProcessorChain BUGGY = new ProcessorChain() {
        @Override
        public String apply(Map<String, Object> event) {
            String text = String.valueOf(event.get("message"));
            if (text.contains("BOOM")) {
                throw new IllegalStateException("a processor bug");
            }
            if (text.contains("DEEP")) {
                recurse(0);
            }
            return null;
        }

        @Override
        public boolean isEmpty() {
            return false;
        }

        @Override
        public List<String> describe() {
            return List.of("buggy");
        }
    };

    private static int recurse(int n) {
        return recurse(n + 1) + 1;
    }

    private static ContainerSettings settings(ProcessorChain chain) {
        return TestSettings.plain().withProcessing(null, chain);
    }

    private static DocumentBuilder builder(ContainerSettings s) {
        ContainerInfo c = new ContainerInfo("c1", "/web", "nginx", Map.of(), null, "json-file", true);
        return new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), "/logs/c1-json.log",
                Config.Limits.defaults(), DEAD_LETTER);
    }

    /** An encoder that throws on "ENC" and overflows the stack on "ENCDEEP", else the real one. */
    private static Encoder buggyEncoder(DocumentBuilder real) {
        return new Encoder() {
            @Override
            public LogEvent encode(Message m, AckTracker t) {
                String text = m.text();
                if (text != null && text.contains("ENCDEEP")) {
                    recurse(0);
                }
                if (text != null && text.contains("ENC")) {
                    throw new IllegalArgumentException("an encoder bug");
                }
                return real.encode(m, t);
            }

            @Override
            public LogEvent deadLetter(Failure f, AckTracker t) {
                return real.deadLetter(f, t);
            }
        };
    }

    private static String entry(String text, int i) {
        return "{\"log\":\"" + text + "\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:00." + String.format("%09d", i) + "Z\"}\n";
    }

    private static JsonFileReader.Source source(byte[] bytes) {
        return new JsonFileReader.Source() {
            @Override
            public long size() {
                return bytes.length;
            }

            @Override
            public int read(ByteBuffer dst, long position) {
                if (position >= bytes.length) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), bytes.length - position);
                dst.put(bytes, (int) position, n);
                return n;
            }
        };
    }

    /** Set before {@link #run}: the line in flight when the agent last exited (its start offset), or -1. */
    private long poison = -1;

    private List<LogEvent> run(Encoder encoder, ContainerSettings s, String... texts) throws Exception {
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < texts.length; i++) {
            file.append(entry(texts[i], i));
        }
        byte[] bytes = file.toString().getBytes(StandardCharsets.UTF_8);
        Publisher publisher = new Publisher(tracker, queue, encoder, metrics, true);
        JsonFileReader reader = new JsonFileReader(new MessageAssembler(s, publisher), new JsonFileReader.Listener() {
            @Override
            public String identify(byte[] line, int off, int len) {
                return "F";
            }

            @Override
            public void malformed(long offset, String why) {
                throw new AssertionError("malformed at " + offset + ": " + why);
            }
        });
        reader.open(null, 0);
        if (poison >= 0) {
            reader.poison("F", poison);
        }
        JsonFileReader.Source src = source(bytes);
        while (reader.readOnce(src) > 0) {
            publisher.flush();
        }
        publisher.flush();
        List<LogEvent> events = new ArrayList<>();
        queue.drain(events, 1000, Long.MAX_VALUE, 0);
        assertThat(tracker.committed()).as("nothing acknowledged yet").isNull();
        LogEvent.ackAll(events);
        assertThat(tracker.committed().offset()).as("the offset moves over every line, the failed ones included")
                .isEqualTo(bytes.length);
        assertThat(tracker.outstanding()).isZero();
        return events;
    }

    private static JsonNode document(LogEvent e) throws Exception {
        String[] lines = new String(e.payload(), StandardCharsets.UTF_8).split("\n");
        return JSON.readTree(lines[1]);
    }

    private static String message(LogEvent e) throws Exception {
        return document(e).path("message").asText();
    }

    @Test
    void aProcessorThatThrowsOrOverflowsTheStackCostsThatLineOnly() throws Exception {
        ContainerSettings s = settings(BUGGY);
        List<LogEvent> events = run(builder(s), s, "one", "BOOM here", "two", "DEEP here", "three");

        assertThat(events).hasSize(5);
        assertThat(events).extracting(LogEvent::index)
                .containsExactly("logs-docker-default", DEAD_LETTER, "logs-docker-default", DEAD_LETTER, "logs-docker-default");
        assertThat(message(events.get(0))).isEqualTo("one");
        assertThat(message(events.get(2))).isEqualTo("two");
        assertThat(message(events.get(4))).isEqualTo("three");

        JsonNode boom = document(events.get(1));
        assertThat(boom.path("event").path("original").asText()).isEqualTo("BOOM here");
        assertThat(boom.path("error").path("type").asText()).isEqualTo(IllegalStateException.class.getName());
        assertThat(boom.path("error").path("message").asText()).isEqualTo("a processor bug");
        assertThat(boom.path("error").path("code").asText()).isEqualTo(Failure.ERROR);
        assertThat(boom.path("document").path("index").asText()).isEqualTo("logs-docker-default");
        assertThat(boom.path("container").path("id").asText()).isEqualTo("c1");
        assertThat(boom.path("data_stream").path("dataset").asText()).isEqualTo("logferry.deadletter");
        assertThat(boom.path("data_stream").path("namespace").asText()).isEqualTo("test");
        assertThat(boom.path("log").path("offset").asLong()).isEqualTo(entry("one", 0).length());
        assertThat(events.get(1).id()).as("the line's own _id: a replay finds it").isEqualTo(builder(s).encode(
                new Message("stdout", "t", "x", new io.logferry.model.Cursor(1, "F", entry("one", 0).length()),
                        null, 0, null, null, null), tracker).id());

        JsonNode deep = document(events.get(3));
        assertThat(deep.path("event").path("original").asText()).isEqualTo("DEEP here");
        assertThat(deep.path("error").path("type").asText()).isEqualTo(StackOverflowError.class.getName());

        assertThat(metrics.counter(Metric.LINES_CONTAINED, "reason", Failure.ERROR).sum()).isEqualTo(2);
    }

    @Test
    void anEncoderThatThrowsOrOverflowsTheStackCostsThatLineOnly() throws Exception {
        ContainerSettings s = settings(ProcessorChain.NONE);
        List<LogEvent> events = run(buggyEncoder(builder(s)), s, "a", "ENC x", "b", "ENCDEEP y", "c");

        assertThat(events).extracting(LogEvent::index)
                .containsExactly("logs-docker-default", DEAD_LETTER, "logs-docker-default", DEAD_LETTER, "logs-docker-default");
        assertThat(message(events.get(4))).isEqualTo("c");
        assertThat(document(events.get(1)).path("error").path("type").asText()).isEqualTo(IllegalArgumentException.class.getName());
        assertThat(document(events.get(1)).path("event").path("original").asText()).isEqualTo("ENC x");
        assertThat(document(events.get(3)).path("error").path("type").asText()).isEqualTo(StackOverflowError.class.getName());
        assertThat(document(events.get(3)).path("stream").asText()).isEqualTo("stdout");
        assertThat(metrics.counter(Metric.LINES_CONTAINED, "reason", Failure.ERROR).sum()).isEqualTo(2);
    }

    @Test
    void anEncoderWithoutADeadLetterStreamMovesTheCursorAndCountsTheLineDropped() throws Exception {
        ContainerSettings s = settings(ProcessorChain.NONE);
        DocumentBuilder real = builder(s);
        Encoder noLetters = (m, t) -> {
            if (m.text().contains("ENC")) {
                throw new IllegalArgumentException("bug");
            }
            return real.encode(m, t);
        };
        List<LogEvent> events = run(noLetters, s, "a", "ENC", "b");
        assertThat(events).hasSize(2);
        assertThat(metrics.counter(Metric.EVENTS_DROPPED, "reason", "failed").sum()).isEqualTo(1);
    }

    @Test
    void theLineInFlightWhenTheAgentExitedIsDeadLetteredAsReadNotProcessed() throws Exception {
        ContainerSettings s = settings(ProcessorChain.NONE);
        poison = entry("a", 0).length();
        List<LogEvent> events = run(buggyEncoder(builder(s)), s, "a", "ENCDEEP would kill it", "b");

        assertThat(events).extracting(LogEvent::index).containsExactly("logs-docker-default", DEAD_LETTER, "logs-docker-default");
        JsonNode letter = document(events.get(1));
        assertThat(letter.path("error").path("code").asText()).isEqualTo(Failure.IN_FLIGHT);
        assertThat(letter.path("error").path("message").asText()).isEqualTo("in flight when the agent exited");
        assertThat(letter.path("event").path("original").asText()).as("the json-file line as read")
                .isEqualTo(entry("ENCDEEP would kill it", 1).trim());
        assertThat(letter.path("log").path("offset").asLong()).isEqualTo(poison);
        assertThat(metrics.counter(Metric.LINES_CONTAINED, "reason", Failure.IN_FLIGHT).sum()).isEqualTo(1);
        assertThat(metrics.counter(Metric.LINES_CONTAINED, "reason", Failure.ERROR).sum()).as("never processed").isZero();
    }

    @Test
    void anOutOfMemoryErrorIsNeverContained() {
        assertThat(Failure.containable(new OutOfMemoryError())).isFalse();
        assertThat(Failure.containable(new InternalError())).isFalse();
        assertThat(Failure.containable(new StackOverflowError())).isTrue();
        assertThat(Failure.containable(new IllegalStateException())).isTrue();
    }
}
