package io.logferry.tail;

import io.logferry.metrics.Metrics;
import io.logferry.model.ContainerInfo;
import io.logferry.model.Cursor;
import io.logferry.spool.Spool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chain's hand-off between the watch thread and the spool thread, turned by hand: this test's
 * thread plays the watch ({@link RotationChain#check}) and the tailer, the spool's jobs wait in a
 * list until the test runs them, and the clock moves only when the test moves it. No waits.
 */
class RotationChainTest {
    private static final String ID = "c".repeat(64);
    @TempDir
    Path root;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<Runnable> spoolJobs = new ArrayList<>();
    private final AtomicReference<Cursor> acked = new AtomicReference<>();
    private final List<FileChannel> opened = new ArrayList<>();
    private Path dir;
    private Spool spool;
    private RotationChain chain;

    @AfterEach
    void closeAll() throws IOException {
        for (FileChannel ch : opened) {
            ch.close();
        }
    }

    private Path log() {
        return dir.resolve(ID + "-json.log");
    }

    private void write(Path file, int from, int to) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            sb.append("{\"log\":\"line ").append(i).append("\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:00.")
                    .append(String.format("%09d", i)).append("Z\"}\n");
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private RotationChain.Source source(long seq, Path p) throws IOException {
        FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
        opened.add(ch);
        return new RotationChain.Source(seq, ch, FileIdentity.key(p), FileIdentity.fingerprint(p), null, 0);
    }

    private void runSpoolJobs() {
        List<Runnable> now = new ArrayList<>(spoolJobs);
        spoolJobs.clear();
        now.forEach(Runnable::run);
    }

    /**
     * A chain whose tailer read file A (seq 1), which Docker then rotated, and now reads B (seq 2);
     * nothing acknowledged, and the acknowledgements stood still past the grace: A's copy is
     * submitted to the spool thread (and waits there).
     */
    private RotationChain.Source rotatedWhileNothingIsAcknowledged() throws IOException {
        dir = root.resolve("containers").resolve(ID);
        Files.createDirectories(dir);
        write(log(), 0, 20);
        ContainerInfo info = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", true);
        chain = new RotationChain(dir, ID, () -> info, acked::get, HeldFiles.unbounded(), spool, new LongAdder(), new LongAdder(),
                clock::get, spoolJobs::add);
        RotationChain.Source a = source(1, log());
        chain.start(List.of(), a.key, a.fileId);
        chain.opened(a);
        Files.move(log(), dir.resolve(ID + "-json.log.1"));
        write(log(), 20, 30);
        assertThat(chain.check()).isTrue();
        RotationChain.Upcoming b = chain.next();
        assertThat(b).as("B handed over").isNotNull();
        opened.add(b.channel());
        chain.opened(new RotationChain.Source(2, b.channel(), b.key(), b.fileId(), null, 0));
        clock.addAndGet(RotationChain.COPY_AFTER_ROTATION_NANOS);
        chain.check();
        assertThat(spoolJobs).as("A's copy waits on the spool thread").hasSize(1);
        return a;
    }

    @Test
    void anAcknowledgementDuringACopyNeitherClosesTheFileUnderItNorBreaksTheSpool() throws IOException {
        spool = new Spool(root.resolve("spool"), 1 << 20, new Metrics());
        RotationChain.Source a = rotatedWhileNothingIsAcknowledged();
        // the output acknowledges all of A while its copy is in flight
        acked.set(new Cursor(2, a.fileId, 10));
        chain.check();
        assertThat(a.channel.isOpen()).as("not closed under the copy").isTrue();
        runSpoolJobs();                                     // the copy reads A to its end: no ClosedChannelException
        assertThat(spool.problem()).isNull();
        assertThat(spool.files()).isEqualTo(1);
        chain.check();                                      // the outcome is applied, then A is released: its copy deleted
        assertThat(a.channel.isOpen()).isFalse();
        runSpoolJobs();
        assertThat(spool.files()).isZero();
        assertThat(spool.problem()).isNull();
    }

    @Test
    void aFailedCopyIsNotMarkedSpooledIsRetriedAfterThePauseAndTheSpoolReportsAProblemUntilItIsIn() throws IOException {
        Path spoolDir = root.resolve("spool");
        Files.writeString(spoolDir, "a file where the spool's directory should be");
        spool = new Spool(spoolDir, 1 << 20, new Metrics());
        RotationChain.Source a = rotatedWhileNothingIsAcknowledged();
        runSpoolJobs();                                     // fails: the volume is "broken"
        chain.check();
        assertThat(spool.problem()).isNotNull();
        assertThat(spoolJobs).as("paused: not offered again at once").isEmpty();
        assertThat(a.channel.isOpen()).as("the file stays open: its bytes are only there").isTrue();
        // the volume is mended; a later success of another copy would not clear the problem, only this one's
        Files.delete(spoolDir);
        Files.createDirectories(spoolDir);
        chain.check();
        assertThat(spoolJobs).as("still paused").isEmpty();
        assertThat(spool.problem()).isNotNull();
        clock.addAndGet(11_000_000_000L);
        chain.check();
        assertThat(spoolJobs).as("offered again after the pause").hasSize(1);
        runSpoolJobs();
        assertThat(spool.problem()).as("the failed copy is in").isNull();
        assertThat(spool.files()).isEqualTo(1);
        chain.check();
        assertThat(a.channel.isOpen()).as("read to its end and in the spool: closed").isFalse();
    }

    @Test
    void whileAcknowledgementsKeepUpARotatedFileIsNotCopied() throws IOException {
        spool = new Spool(root.resolve("spool"), 1 << 20, new Metrics());
        dir = root.resolve("containers").resolve(ID);
        Files.createDirectories(dir);
        write(log(), 0, 20);
        ContainerInfo info = new ContainerInfo(ID, "/app", "img", Map.of(), log().toString(), "json-file", true);
        chain = new RotationChain(dir, ID, () -> info, acked::get, HeldFiles.unbounded(), spool, new LongAdder(), new LongAdder(),
                clock::get, spoolJobs::add);
        RotationChain.Source a = source(1, log());
        chain.start(List.of(), a.key, a.fileId);
        chain.opened(a);
        Files.move(log(), dir.resolve(ID + "-json.log.1"));
        write(log(), 20, 30);
        chain.check();
        RotationChain.Upcoming b = chain.next();
        opened.add(b.channel());
        chain.opened(new RotationChain.Source(2, b.channel(), b.key(), b.fileId(), null, 0));
        for (int i = 0; i < 5; i++) {                       // acknowledgements move every 0.3 s; A is all acknowledged within 1.5 s
            clock.addAndGet(300_000_000L);
            acked.set(new Cursor(1, a.fileId, 100 * (i + 1)));
            chain.check();
        }
        assertThat(spoolJobs).as("nothing copied within the grace while acknowledgements move").isEmpty();
        acked.set(new Cursor(2, b.fileId(), 0));
        clock.addAndGet(RotationChain.COPY_AFTER_ROTATION_NANOS);
        chain.check();
        assertThat(spoolJobs).as("acknowledged: released, never copied").isEmpty();
        assertThat(a.channel.isOpen()).isFalse();
    }
}
