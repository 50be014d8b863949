package io.logferry.tail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.LogEvent;
import io.logferry.model.StartPosition;
import io.logferry.pipeline.EventQueue;
import io.logferry.registry.Registry;
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
    private Registry.Entry resume;
    private StartPosition startPosition = StartPosition.BEGINNING;
    private LogPrefetcher prefetcher;
    private boolean running = true;
    private io.logferry.spool.Spool spool;
    private final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);

    private Path log() {
        return root.resolve(ID).resolve(ID + "-json.log");
    }

    private FileTailer start() throws IOException {
        Files.createDirectories(log().getParent());
        if (!Files.exists(log())) {
            Files.createFile(log());
        }
        ContainerInfo c = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", running);
        ContainerSettings s = TestSettings.plain(startPosition);
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), log().toString());
        tailer = new FileTailer(c, s, root, resume, new AckTracker(ID, null), queue, b, metrics, t -> finished.countDown(), prefetcher, held,
                spool);
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
        if (prefetcher != null) {
            prefetcher.close();
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

    /** Takes what is queued without acknowledging it (Elasticsearch is down); returns the _ids. */
    private List<String> takenUnacknowledged() throws Exception {
        List<LogEvent> out = new ArrayList<>();
        queue.drain(out, 10_000, Long.MAX_VALUE, 0);
        ObjectMapper mapper = new ObjectMapper();
        List<String> taken = new ArrayList<>();
        for (LogEvent e : out) {
            taken.add(mapper.readTree(new String(e.payload(), StandardCharsets.UTF_8).split("\n")[0]).path("create").path("_id").asText());
        }
        return taken;
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
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 3);
        await().atMost(Duration.ofSeconds(30)).until(() -> tailer.bufferBytes() == 0);
        write(3, 5, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 5);
        assertThat(docs).extracting(d -> d.path("message").asText()).containsExactly("line 0", "line 1", "line 2", "line 3", "line 4");
    }

    @Test
    void aFileTruncatedInPlaceIsReadAgainFromTheStartWithNewIds() throws Exception {
        start();
        run();
        write(0, 10, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 10);
        try (FileChannel ch = FileChannel.open(log(), StandardOpenOption.WRITE)) {
            ch.truncate(0);                  // as `truncate -s 0`: the same file, emptied
        }
        write(10, 15, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 15);
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
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.size() == 2);
        long[] sizes = new long[4];
        for (int k = 1; k <= 3; k++) {
            rotate(k - 1);
            write(100 * k, 100 * k + 5, k);
            sizes[k] = Files.size(log());
            int seen = k;
            // the rotation watch opens the new file while the tailer is blocked
            await().atMost(Duration.ofSeconds(30)).until(() -> tailer.behind() > 0 && heldFiles() == Math.min(seen, 1));
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> metrics.value("logferry_log_losses_total", "container", "app") == 2);
        assertThat(metrics.value("logferry_log_lost_bytes_total", "container", "app")).isEqualTo(sizes[1] + sizes[2]);
        assertThat(held.total()).isEqualTo(sizes[3]);
        // unblocked: the file being read, then the one file still held
        await().atMost(Duration.ofSeconds(20)).until(() -> drained() == 55);
        assertThat(docs).extracting(d -> d.path("message").asText()).contains("line 49", "line 300", "line 304")
                .doesNotContain("line 100", "line 204");
        await().atMost(Duration.ofSeconds(30)).until(() -> held.total() == 0);
    }

    @Test
    void aRemovedContainersUnacknowledgedBytesGoToTheSpoolAndAfterACrashShipWithTheSameIds() throws Exception {
        spool = new io.logferry.spool.Spool(root.resolve("spool"), 1 << 20, metrics);
        start();
        write(0, 20, 0);
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.size() == 20);
        List<String> first = takenUnacknowledged();
        long size = Files.size(log());
        // docker rm: the directory goes, the tailer still holds the file open
        Files.delete(log());
        Files.delete(log().getParent());
        tailer.markRemoved();
        await().atMost(Duration.ofSeconds(30)).until(() -> spool.files() == 1);
        assertThat(spool.segments(spool.containerIdsWithSegments().iterator().next()).get(0).length()).isEqualTo(size);
        // SIGKILL: the tailer, its queue and its open file are gone; the spool stays
        tailer.shutdown();
        thread.join(5000);
        queue = new EventQueue(10_000, 1 << 26);
        running = false;
        io.logferry.spool.Spool after = new io.logferry.spool.Spool(root.resolve("spool"), 1 << 20, new Metrics());
        spool = after;
        FileTailer second = startWithoutLog();
        second.markRemoved();
        tailer = second;
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 20);
        assertThat(ids).as("the same documents, the same _ids").containsExactlyElementsOf(first);
        assertThat(docs.get(0).path("container").path("name").asText()).isEqualTo("app");
        assertThat(finished.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("read to the end and acknowledged: done").isTrue();
    }

    @Test
    void aResumeInsideASpooledRangeStartsAtTheRegistrysOffset() throws Exception {
        spool = new io.logferry.spool.Spool(root.resolve("spool"), 1 << 20, metrics);
        start();
        write(0, 10, 0);
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.size() == 10);
        List<String> first = takenUnacknowledged();
        String fp = FileIdentity.fingerprint(log());
        long lineEnd = Files.readAllLines(log()).get(0).length() + 1L;
        Files.delete(log());
        Files.delete(log().getParent());
        tailer.markRemoved();
        await().atMost(Duration.ofSeconds(30)).until(() -> spool.files() == 1);
        tailer.shutdown();
        thread.join(5000);
        queue = new EventQueue(10_000, 1 << 26);
        running = false;
        spool = new io.logferry.spool.Spool(root.resolve("spool"), 1 << 20, new Metrics());
        resume = new Registry.Entry(fp, lineEnd, "");       // line 0 was acknowledged before the crash
        tailer = startWithoutLog();
        tailer.markRemoved();
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 9);
        assertThat(ids).containsExactlyElementsOf(first.subList(1, 10));
    }

    @Test
    void heldFilesBeyondTheLimitGoToTheSpoolAndNothingIsLost() throws Exception {
        spool = new io.logferry.spool.Spool(root.resolve("spool"), 1 << 20, metrics);
        queue = new EventQueue(2, 1 << 26);            // full at once: the tailer blocks (backpressure)
        held = new HeldFiles(1, Long.MAX_VALUE);
        start();
        write(0, 50, 0);
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.size() == 2);
        for (int k = 1; k <= 3; k++) {
            rotate(k - 1);
            write(100 * k, 100 * k + 5, k);
            int seen = k;
            await().atMost(Duration.ofSeconds(30)).until(() -> tailer.behind() > 0 && heldFiles() == 1
                    && spool.files() == seen - 1);
        }
        // Docker deletes the oldest rotated files (max-file): held or spooled, nothing of them is lost
        Files.delete(log().resolveSibling(ID + "-json.log.3"));
        Files.delete(log().resolveSibling(ID + "-json.log.2"));
        await().atMost(Duration.ofSeconds(20)).until(() -> drained() == 65);
        assertThat(docs).extracting(d -> d.path("message").asText()).contains("line 0", "line 49", "line 100", "line 204", "line 304");
        assertThat(ids).doesNotHaveDuplicates();
        assertThat(metrics.value("logferry_log_losses_total", "container", "app")).isZero();
        write(400, 401, 4);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 66);
        await("acknowledged spooled copies are deleted").atMost(Duration.ofSeconds(30)).until(() -> spool.files() == 0);
    }

    /** A tailer of a container whose log directory is gone (removed before the crash). */
    private FileTailer startWithoutLog() {
        ContainerInfo c = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", running);
        ContainerSettings s = TestSettings.plain(startPosition);
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), log().toString());
        return new FileTailer(c, s, root, resume, new AckTracker(ID, resume == null ? null
                : new io.logferry.model.Cursor(0, resume.fileId(), resume.offset())), queue, b, metrics, t -> finished.countDown(),
                prefetcher, held, spool);
    }

    @Test
    void heldBytesOverAllTailersReleaseTheOldestHeldFile() throws Exception {
        queue = new EventQueue(2, 1 << 26);
        held = new HeldFiles(10, 1000);                // each rotated file below is ~500 bytes
        held.update("another container", 600);
        start();
        write(0, 50, 0);
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> queue.size() == 2);
        rotate(0);
        write(100, 105, 1);
        long first = Files.size(log());
        await().atMost(Duration.ofSeconds(30)).until(() -> metrics.value("logferry_log_losses_total", "container", "app") == 0
                && held.total() == 600 + first);
        rotate(1);
        write(200, 205, 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> metrics.value("logferry_log_losses_total", "container", "app") == 1);
        assertThat(metrics.value("logferry_log_lost_bytes_total", "container", "app")).isEqualTo(first);
        assertThat(held.total()).isEqualTo(600 + Files.size(log()));
    }

    private int heldFiles() {
        return (int) Math.min(Integer.MAX_VALUE, tailer.heldFileCount());
    }

    private List<String> messages() {
        return docs.stream().map(d -> d.path("message").asText()).toList();
    }

    private static List<String> lines(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add("line " + i);
        }
        return out;
    }

    /** The first line {@link #write} writes for line {@code i} at {@code second}, without its newline. */
    private static String firstLine(int i, int second) {
        return String.format("{\"log\":\"line %d\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:%02d.%09dZ\"}", i, second, i);
    }

    @Test
    void rotationsAreFollowedInOrderWithoutLossAndTheFilesAreLetGo() throws Exception {
        start();
        run();
        write(0, 10, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 10);
        for (int k = 1; k <= 3; k++) {
            write(10 * k, 10 * k + 5, k - 1);         // the end of the file, written just before the rotation
            rotate(k - 1);
            write(10 * k + 5, 10 * k + 10, k);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 40);
        assertThat(messages()).containsExactlyElementsOf(lines(0, 40));
        assertThat(ids).doesNotHaveDuplicates();
        await().atMost(Duration.ofSeconds(30)).until(() -> heldFiles() == 0 && held.total() == 0);
        assertThat(metrics.value("logferry_log_losses_total", "container", "app")).isZero();
    }

    @Test
    void theFileIdInEveryCursorIsTheFixedFingerprintOfTheFilesFirstLine() throws Exception {
        start();
        run();
        write(0, 3, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 3);
        byte[] first = firstLine(0, 0).getBytes(StandardCharsets.UTF_8);
        String fp = FileIdentity.fingerprint(first, 0, first.length);
        assertThat(fp).isEqualTo("565af40f835dde90");
        await().atMost(Duration.ofSeconds(30)).until(() -> tailer.tracker().committed() != null
                && tailer.tracker().committed().offset() == Files.size(log()));
        assertThat(tailer.tracker().committed().fileId()).isEqualTo(fp);
    }

    @Test
    void aResumeStartsAtTheRegistryOffsetInTheRotatedFileAndReadsOnIntoTheNewerOnes() throws Exception {
        Files.createDirectories(log().getParent());
        write(0, 10, 0);
        long afterFive = firstLine(0, 0).length() + 1L;
        for (int i = 1; i < 5; i++) {
            afterFive += firstLine(i, 0).length() + 1L;
        }
        rotate(0);
        write(10, 15, 1);
        byte[] first = firstLine(0, 0).getBytes(StandardCharsets.UTF_8);
        resume = new Registry.Entry(FileIdentity.fingerprint(first, 0, first.length), afterFive, log().toString());
        start();
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 10);
        assertThat(messages()).containsExactlyElementsOf(lines(5, 15));
        assertThat(docs.get(0).path("log").path("offset").asLong()).isEqualTo(afterFive);
    }

    /**
     * A registry entry whose read chain gives a later file its own start (as {@code logferry migrate
     * filebeat} writes it: each file at the offset Filebeat's harvester of it reached): the older
     * file from the entry's offset, the newer one from its own, not from 0.
     */
    @Test
    void aLaterFileOfTheReadChainStartsAtItsOwnOffset() throws Exception {
        Files.createDirectories(log().getParent());
        write(0, 10, 0);
        String fpOld = FileIdentity.fingerprint(log());
        long oldSize = Files.size(log());
        long afterThree = 0;
        for (int i = 0; i < 3; i++) {
            afterThree += firstLine(i, 0).length() + 1L;
        }
        rotate(0);
        write(10, 20, 1);
        String fpNew = FileIdentity.fingerprint(log());
        long afterFifteen = 0;
        for (int i = 10; i < 16; i++) {
            afterFifteen += firstLine(i, 1).length() + 1L;
        }
        resume = new Registry.Entry(fpOld, afterThree, log().toString(),
                List.of(new Registry.Read(fpNew, afterFifteen, Files.size(log()))));
        start();
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 11);
        List<String> expected = new ArrayList<>(lines(3, 10));
        expected.addAll(lines(16, 20));
        assertThat(messages()).containsExactlyElementsOf(expected);
        assertThat(oldSize).isPositive();
    }

    /**
     * Issue 24: resume order came from the first lines' times, 0 for a first line over 64 KiB, so
     * the live log could sort before the registry's (spooled) file and never be read. The order
     * is the chain's now: the registry's file from the spool, then the live log.
     */
    @Test
    void aResumeWithFirstLinesOver64KiBReadsTheChainInItsOrder() throws Exception {
        spool = new io.logferry.spool.Spool(root.resolve("spool"), 1 << 22, metrics);
        Files.createDirectories(log().getParent());
        String longA = "{\"log\":\"" + "a".repeat(70_000) + "\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:00.000000001Z\"}\n";
        Files.writeString(log(), longA, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        write(1, 5, 0);
        String fpA = FileIdentity.fingerprint(log());
        long sizeA = Files.size(log());
        ContainerInfo c = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", true);
        try (FileChannel ch = FileChannel.open(log(), StandardOpenOption.READ)) {
            assertThat(FileIdentity.firstTime(ch)).as("a first line over 64 KiB has no time to sort by").isZero();
            spool.write(c, fpA, FileIdentity.firstTime(ch), ch, 0, sizeA);
        }
        Files.delete(log());                                // Docker deleted it while the agent was down; the spool has it
        String longB = "{\"log\":\"" + "b".repeat(70_000) + "\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:09.000000001Z\"}\n";
        Files.writeString(log(), longB, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        write(10, 15, 9);
        resume = new Registry.Entry(fpA, longA.length(), log().toString(), List.of(new Registry.Read(fpA, longA.length(), sizeA)));
        start();
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 10);
        List<String> expected = new ArrayList<>(lines(1, 5));
        expected.add("b".repeat(70_000));
        expected.addAll(lines(10, 15));
        assertThat(messages()).containsExactlyElementsOf(expected);
        assertThat(metrics.value("logferry_log_losses_total", "container", "app")).isZero();
    }

    @Test
    void aResumeWhoseFileIsGoneIsReportedLostAndStartsFromTheOldestFile() throws Exception {
        Files.createDirectories(log().getParent());
        write(0, 4, 0);
        resume = new Registry.Entry("0123456789abcdef", 100, log().toString());
        start();
        run();
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 4);
        assertThat(messages()).containsExactlyElementsOf(lines(0, 4));
        assertThat(metrics.value("logferry_log_losses_total", "container", "app")).isEqualTo(1);
    }

    @Test
    void startPositionEndReadsOnlyWhatIsWrittenAfterTheStart() throws Exception {
        Files.createDirectories(log().getParent());
        write(0, 5, 0);
        startPosition = StartPosition.END;
        start();
        run();
        long end = Files.size(log());
        await().atMost(Duration.ofSeconds(30)).until(() -> tailer.readOffset() == end);
        write(5, 8, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 3);
        assertThat(messages()).containsExactly("line 5", "line 6", "line 7");
    }

    @Test
    void aMalformedLineIsCountedAndSkippedAndTheCursorMovesPastIt() throws Exception {
        start();
        run();
        write(0, 2, 0);
        Files.writeString(log(), "this is not json\n", StandardOpenOption.APPEND);
        write(2, 4, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> drained() == 4);
        assertThat(messages()).containsExactlyElementsOf(lines(0, 4));
        assertThat(metrics.value("logferry_lines_malformed_total")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> tailer.tracker().committed() != null
                && tailer.tracker().committed().offset() == Files.size(log()));
    }

    @Test
    void aStoppedContainersTailerReadsToTheEndAndFinishes() throws Exception {
        Files.createDirectories(log().getParent());
        write(0, 5, 0);
        rotate(0);
        write(5, 8, 1);
        running = false;
        start();
        run();
        assertThat(finished.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("the tailer finished").isTrue();
        assertThat(drained()).isEqualTo(8);
        assertThat(messages()).containsExactlyElementsOf(lines(0, 8));
        assertThat(held.total()).isZero();
    }

    @Test
    void aFileThePrefetcherOpenedIsReadEvenAfterDockerRemovedIt() throws Exception {
        Files.createDirectories(root);
        prefetcher = new LogPrefetcher(root);
        prefetcher.start();
        Files.createDirectories(log().getParent());
        write(0, 3, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> prefetcher.heldCount() == 1);
        // a --rm container: its directory and log are gone before discovery has heard of it
        Files.delete(log());
        Files.delete(log().getParent());
        running = false;
        ContainerInfo c = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", false);
        ContainerSettings s = TestSettings.plain();
        DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), log().toString());
        tailer = new FileTailer(c, s, root, null, new AckTracker(ID, null), queue, b, metrics, t -> finished.countDown(), prefetcher, held);
        run();
        assertThat(finished.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("the tailer finished").isTrue();
        assertThat(drained()).isEqualTo(3);
        assertThat(messages()).containsExactly("line 0", "line 1", "line 2");
        assertThat(prefetcher.heldCount()).as("handed over").isZero();
    }
}
