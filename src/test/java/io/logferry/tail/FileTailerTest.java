package io.logferry.tail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.LogEvent;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import io.logferry.pipeline.EventQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The file tailer on a real file in a temporary directory laid out like Docker's (no engine needed). */
class FileTailerTest {
    private static final String ID = "a".repeat(64);
    @TempDir
    Path root;
    private EventQueue queue = new EventQueue(10_000, 1 << 26);
    private HeldFiles held = HeldFiles.unbounded();
    private final Metrics metrics = new Metrics();
    private final List<JsonNode> docs = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();
    private FileTailer tailer;
    private Thread thread;

    private Path log() {
        return root.resolve(ID).resolve(ID + "-json.log");
    }

    private FileTailer start() throws IOException {
        Files.createDirectories(log().getParent());
        if (!Files.exists(log())) {
            Files.createFile(log());
        }
        ContainerInfo c = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", true);
        ContainerSettings s = new ContainerSettings("docker", "default", Streams.ALL, StartPosition.BEGINNING,
                new ContainerSettings.MultilineRule("none", null, false, true, 500, Duration.ofSeconds(5)), false, "", 1 << 20,
                List.of(), List.of(), Map.of());
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), log().toString());
        tailer = new FileTailer(c, s, root, null, new AckTracker(ID, null), queue, b, metrics, t -> { }, null, held);
        return tailer;
    }

    private void run() {
        thread = Thread.ofVirtual().start(tailer);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (tailer != null) {
            tailer.shutdown();
        }
        if (thread != null) {
            thread.join(5000);
        }
    }

    private void write(int from, int to, int second) throws IOException {
        write(log(), from, to, second);
    }

    private static void write(Path file, int from, int to, int second) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            sb.append("{\"log\":\"line ").append(i).append("\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:")
                    .append(String.format("%02d", second)).append(".").append(String.format("%09d", i)).append("Z\"}\n");
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private int drained() throws Exception {
        List<LogEvent> out = new ArrayList<>();
        queue.drain(out, 10_000, Long.MAX_VALUE, 0);
        ObjectMapper mapper = new ObjectMapper();
        for (LogEvent e : out) {
            String[] lines = new String(e.payload(), StandardCharsets.UTF_8).split("\n");
            ids.add(mapper.readTree(lines[0]).path("create").path("_id").asText());
            docs.add(mapper.readTree(lines[1]));
            e.ack();
        }
        return docs.size();
    }

    @Test
    void aTailerHoldsNoReadBufferUntilThereIsSomethingToReadAndGivesItBackWhenIdle() throws Exception {
        start();
        assertThat(tailer.bufferBytes()).as("created, nothing read").isZero();
        tailer.idleRelease(Duration.ofMillis(300));
        run();
        write(0, 3, 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> drained() == 3);
        await().atMost(Duration.ofSeconds(10)).until(() -> tailer.bufferBytes() == 0);
        write(3, 5, 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> drained() == 5);
        assertThat(docs).extracting(d -> d.path("message").asText()).containsExactly("line 0", "line 1", "line 2", "line 3", "line 4");
    }

    @Test
    void aFileTruncatedInPlaceIsReadAgainFromTheStartWithNewIds() throws Exception {
        start();
        run();
        write(0, 10, 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> drained() == 10);
        try (FileChannel ch = FileChannel.open(log(), StandardOpenOption.WRITE)) {
            ch.truncate(0);                  // as `truncate -s 0`: the same file, emptied
        }
        write(10, 15, 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> drained() == 15);
        assertThat(docs.subList(10, 15)).extracting(d -> d.path("message").asText())
                .containsExactly("line 10", "line 11", "line 12", "line 13", "line 14");
        assertThat(docs.get(10).path("log").path("offset").asLong()).isZero();
        assertThat(ids).doesNotHaveDuplicates();
        assertThat(metrics.value("logferry_truncations_total", "container", "app")).isEqualTo(1);
    }

    /** As Docker rotates: {@code -json.log.N} → {@code .N+1}, ..., {@code -json.log} → {@code .1}; then a new {@code -json.log}. */
    private void rotate(int rotated) throws IOException {
        for (int n = rotated; n >= 1; n--) {
            Files.move(log().resolveSibling(ID + "-json.log." + n), log().resolveSibling(ID + "-json.log." + (n + 1)));
        }
        Files.move(log(), log().resolveSibling(ID + "-json.log.1"));
    }

    @Test
    void aBlockedTailerHoldsAtMostHeldFilesPerContainerAndReportsTheRestAsLost() throws Exception {
        queue = new EventQueue(2, 1 << 26);            // full at once: the tailer blocks (backpressure)
        held = new HeldFiles(1, Long.MAX_VALUE);
        start();
        write(0, 50, 0);
        run();
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.size() == 2);
        long[] sizes = new long[4];
        for (int k = 1; k <= 3; k++) {
            rotate(k - 1);
            write(100 * k, 100 * k + 5, k);
            sizes[k] = Files.size(log());
            int seen = k;
            // the rotation watch opens the new file while the tailer is blocked
            await().atMost(Duration.ofSeconds(10)).until(() -> tailer.behind() > 0 && heldFiles() == Math.min(seen, 1));
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> metrics.value("logferry_log_losses_total", "container", "app") == 2);
        assertThat(metrics.value("logferry_log_lost_bytes_total", "container", "app")).isEqualTo(sizes[1] + sizes[2]);
        assertThat(held.total()).isEqualTo(sizes[3]);
        // unblocked: the file being read, then the one file still held
        await().atMost(Duration.ofSeconds(20)).until(() -> drained() == 55);
        assertThat(docs).extracting(d -> d.path("message").asText()).contains("line 49", "line 300", "line 304")
                .doesNotContain("line 100", "line 204");
        await().atMost(Duration.ofSeconds(10)).until(() -> held.total() == 0);
    }

    @Test
    void heldBytesOverAllTailersReleaseTheOldestHeldFile() throws Exception {
        queue = new EventQueue(2, 1 << 26);
        held = new HeldFiles(10, 1000);                // each rotated file below is ~500 bytes
        held.update("another container", 600);
        start();
        write(0, 50, 0);
        run();
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.size() == 2);
        rotate(0);
        write(100, 105, 1);
        long first = Files.size(log());
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.value("logferry_log_losses_total", "container", "app") == 0
                && held.total() == 600 + first);
        rotate(1);
        write(200, 205, 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.value("logferry_log_losses_total", "container", "app") == 1);
        assertThat(metrics.value("logferry_log_lost_bytes_total", "container", "app")).isEqualTo(first);
        assertThat(held.total()).isEqualTo(600 + Files.size(log()));
    }

    private int heldFiles() {
        return (int) Math.min(Integer.MAX_VALUE, tailer.heldFileCount());
    }
}
