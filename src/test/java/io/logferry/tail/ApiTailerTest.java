package io.logferry.tail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import io.logferry.model.TestSettings;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.LogEvent;
import io.logferry.pipeline.EventQueue;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The Docker logs API tailer's line handling, fed frames as docker-java delivers them (no engine needed). */
class ApiTailerTest {
    private static final int MAX_BYTES = 1000;
    private static final String TS = "2024-05-01T10:00:00.000000001Z ";
    private static final String TS2 = "2024-05-01T10:00:00.000000002Z ";
    private final EventQueue queue = new EventQueue(1000, 1 << 26);
    private final Metrics metrics = new Metrics();
    private final ApiTailer tailer = tailer();

    private ApiTailer tailer() {
        ContainerInfo c = new ContainerInfo("c1", "/local", "img", Map.of(), null, "local", true);
        ContainerSettings s = TestSettings.plain(MAX_BYTES);
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), null);
        return new ApiTailer((LogStream) null, c, s, null, new AckTracker("c1", null), queue, b, metrics, t -> { });
    }

    private void frame(StreamType type, String text) throws InterruptedException {
        tailer.frame(new Frame(type, text.getBytes(StandardCharsets.UTF_8)));
    }

    private List<JsonNode> documents() throws Exception {
        List<LogEvent> out = new ArrayList<>();
        queue.drain(out, 1000, Long.MAX_VALUE, 0);
        List<JsonNode> docs = new ArrayList<>();
        ObjectMapper mapper = new ObjectMapper();
        for (LogEvent e : out) {
            String[] lines = new String(e.payload(), StandardCharsets.UTF_8).split("\n");
            docs.add(mapper.readTree(lines[lines.length - 1]));
        }
        return docs;
    }

    @Test
    void aHundredMegabytesWithoutANewlineHoldAtMostMaxBytesAndEndAsOneTruncatedMessage() throws Exception {
        byte[] chunk = new byte[32 * 1024];
        Arrays.fill(chunk, (byte) 'x');
        frame(StreamType.STDOUT, TS);
        int frames = 100 * 1024 * 1024 / chunk.length;
        int maxHeld = 0;
        for (int i = 0; i < frames; i++) {
            tailer.frame(new Frame(StreamType.STDOUT, chunk));
            maxHeld = Math.max(maxHeld, tailer.heldBytes());
        }
        assertThat(maxHeld).as("held for the unterminated line").isLessThanOrEqualTo(MAX_BYTES + ApiTailer.TIMESTAMP_ROOM);
        frame(StreamType.STDOUT, "end\n" + TS2 + "next\n");
        assertThat(tailer.heldBytes()).isZero();
        List<JsonNode> docs = documents();
        assertThat(docs).hasSize(2);
        assertThat(docs.get(0).path("message").asText()).hasSize(MAX_BYTES).matches("x+");
        assertThat(docs.get(0).path("log").path("flags").toString()).contains("truncated");
        assertThat(docs.get(1).path("message").asText()).isEqualTo("next");
        assertThat(metrics.value("logferry_api_bytes_dropped_total"))
                .isEqualTo((long) frames * chunk.length + TS.length() + 3 - (MAX_BYTES + ApiTailer.TIMESTAMP_ROOM));
    }

    @Test
    void aLongLineWithinOneFrameIsCutAndFlaggedToo() throws Exception {
        frame(StreamType.STDERR, TS + "é".repeat(3000) + "\n" + TS2 + "short\n");
        List<JsonNode> docs = documents();
        assertThat(docs).hasSize(2);
        String m = docs.get(0).path("message").asText();
        assertThat(m).matches("é+");
        assertThat(m.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(MAX_BYTES).isGreaterThan(MAX_BYTES - 2);
        assertThat(docs.get(0).path("log").path("flags").toString()).contains("truncated");
        assertThat(docs.get(0).path("stream").asText()).isEqualTo("stderr");
        assertThat(docs.get(1).path("message").asText()).isEqualTo("short");
    }

    @Test
    void linesSplitAcrossFramesAndStreamsAreJoinedPerStream() throws Exception {
        frame(StreamType.STDOUT, TS + "hel");
        frame(StreamType.STDERR, TS + "oops\n");
        frame(StreamType.STDOUT, "lo\n");
        List<JsonNode> docs = documents();
        assertThat(docs).extracting(d -> d.path("message").asText()).containsExactly("oops", "hello");
        assertThat(docs.get(1).path("log").path("flags").isMissingNode() || !docs.get(1).path("log").path("flags").toString().contains("truncated")).isTrue();
        assertThat(tailer.heldBytes()).isZero();
    }

    @Test
    void aLineOfExactlyMaxBytesIsWholeAndNotFlagged() throws Exception {
        frame(StreamType.STDOUT, TS + "a".repeat(MAX_BYTES / 2));
        frame(StreamType.STDOUT, "a".repeat(MAX_BYTES / 2) + "\n");
        List<JsonNode> docs = documents();
        assertThat(docs.get(0).path("message").asText()).hasSize(MAX_BYTES);
        assertThat(docs.get(0).path("log").path("flags").toString()).doesNotContain("truncated");
        assertThat(metrics.value("logferry_api_bytes_dropped_total")).isZero();
    }

    @Test
    void aLineTheBudgetRefusesGoesOnCutAndFlaggedAndTheRestOfItIsDropped() throws Exception {
        io.logferry.model.BufferBudget budget = new io.logferry.model.BufferBudget(200);
        ContainerInfo c = new ContainerInfo("c1", "/local", "img", Map.of(), null, "local", true);
        ContainerSettings s = TestSettings.plain(MAX_BYTES);
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), null);
        ApiTailer small = new ApiTailer((LogStream) null, c, s, null, new AckTracker("c1", null), queue, b, metrics, t -> { }, budget);
        small.frame(new Frame(StreamType.STDOUT, (TS + "a".repeat(100)).getBytes(StandardCharsets.UTF_8)));
        assertThat(budget.used()).isEqualTo(TS.length() + 100);
        small.frame(new Frame(StreamType.STDOUT, "b".repeat(100).getBytes(StandardCharsets.UTF_8)));   // beyond 200: refused
        assertThat(budget.used()).as("given back").isZero();
        small.frame(new Frame(StreamType.STDOUT, ("c".repeat(50) + "\n" + TS2 + "next\n").getBytes(StandardCharsets.UTF_8)));
        List<JsonNode> docs = documents();
        assertThat(docs).extracting(d -> d.path("message").asText()).containsExactly("a".repeat(100), "next");
        assertThat(docs.get(0).path("log").path("flags").toString()).contains("truncated");
        assertThat(docs.get(1).path("log").path("flags").isMissingNode()).isTrue();
        assertThat(metrics.value("logferry_api_bytes_dropped_total")).isEqualTo(150);
        assertThat(budget.used()).isZero();
        assertThat(budget.cuts()).isEqualTo(1);
    }

    /**
     * A stand-in for docker-java's log stream: frames are sent from a thread of its own, as
     * docker-java does, and it records which threads encoded documents.
     */
    private static final class FakeStream implements LogStream {
        final List<String> frames = new ArrayList<>();
        volatile Thread thread;
        volatile boolean closed;

        @Override
        public java.io.Closeable open(String containerId, boolean follow, int sinceSeconds, Sink sink) {
            thread = new Thread(() -> {
                try {
                    for (String f : frames) {
                        if (closed) {
                            return;
                        }
                        sink.frame(new Frame(StreamType.STDOUT, f.getBytes(StandardCharsets.UTF_8)));
                    }
                    sink.ended(null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "fake-docker-java");
            thread.start();
            return () -> closed = true;
        }

        @Override
        public boolean running(String containerId) {
            return false;
        }
    }

    private final java.util.Set<String> encodedOn = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);

    /** A tailer of a stopped container (one stream without follow), on the given stream and queue. */
    private ApiTailer streamTailer(FakeStream stream, EventQueue q) {
        ContainerInfo c = new ContainerInfo("c1", "/local", "img", Map.of(), null, "local", false);
        ContainerSettings s = TestSettings.plain(MAX_BYTES);
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), null);
        io.logferry.decode.Encoder recording = (m, tracker) -> {
            encodedOn.add(Thread.currentThread().getName());
            return b.encode(m, tracker);
        };
        return new ApiTailer(stream, c, s, null, new AckTracker("c1", null), q, recording, metrics, t -> done.countDown());
    }

    private static String line(int i) {
        return String.format("2024-05-01T10:00:00.%09dZ line %d\n", i + 1, i);
    }

    @Test
    void underBackpressureTheStreamsThreadWaitsOutsideTheAssemblerAndEveryLineArrivesInOrder() throws Exception {
        EventQueue small = new EventQueue(2, 1 << 26);
        FakeStream stream = new FakeStream();
        for (int i = 0; i < 100; i++) {
            stream.frames.add(line(i));
        }
        ApiTailer t = streamTailer(stream, small);
        Thread tailerThread = Thread.ofVirtual().start(t);
        // the queue is full and the tailer blocked in put: the stream's thread waits in the hand-off, not in a monitor
        await().atMost(Duration.ofSeconds(10)).until(() -> small.size() == 2 && stream.thread != null
                && stream.thread.getState() == Thread.State.TIMED_WAITING);
        List<String> got = new ArrayList<>();
        List<LogEvent> out = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            out.clear();
            small.drain(out, 1000, Long.MAX_VALUE, 0);
            for (LogEvent e : out) {
                String[] lines = new String(e.payload(), StandardCharsets.UTF_8).split("\n");
                got.add(new ObjectMapper().readTree(lines[lines.length - 1]).path("message").asText());
            }
            return got.size() == 100;
        });
        assertThat(got).first().isEqualTo("line 0");
        assertThat(got).last().isEqualTo("line 99");
        assertThat(got).doesNotHaveDuplicates().isSortedAccordingTo(java.util.Comparator.comparingInt(m -> Integer.parseInt(m.substring(5))));
        assertThat(done.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the tailer finished").isTrue();
        tailerThread.join(5000);
        assertThat(encodedOn).as("documents are built on the tailer's thread only").containsExactly("api-c1");
    }

    @Test
    void aShutdownWhileTheQueueIsFullReleasesTheTailerAndTheStreamsThread() throws Exception {
        EventQueue small = new EventQueue(1, 1 << 26);
        FakeStream stream = new FakeStream();
        for (int i = 0; i < 100; i++) {
            stream.frames.add(line(i));
        }
        ApiTailer t = streamTailer(stream, small);
        Thread.ofVirtual().start(t);
        await().atMost(Duration.ofSeconds(10)).until(() -> small.size() == 1 && stream.thread != null
                && stream.thread.getState() == Thread.State.TIMED_WAITING);
        t.shutdown();
        assertThat(stream.closed).as("the stream is closed").isTrue();
        small.drain(new ArrayList<>(), 1000, Long.MAX_VALUE, 0);   // the tailer was blocked in put: let it see the shutdown
        assertThat(done.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the tailer finished").isTrue();
        stream.thread.join(10_000);
        assertThat(stream.thread.isAlive()).as("docker-java's thread is not left blocked").isFalse();
    }
}
