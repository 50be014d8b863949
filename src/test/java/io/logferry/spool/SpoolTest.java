package io.logferry.spool;

import io.logferry.metrics.Metrics;
import io.logferry.model.ContainerInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The spool on a real directory: segments in the log file's coordinates, the byte limit, a failing volume. */
class SpoolTest {
    private static final String ID = "c".repeat(64);
    private static final ContainerInfo C = new ContainerInfo(ID, "/app", "img:1", Map.of("logferry.dataset", "web"),
            "/x/" + ID + "-json.log", "json-file", true);
    @TempDir
    Path root;
    private final Metrics metrics = new Metrics();

    private FileChannel log(String text) throws IOException {
        Path p = root.resolve("log");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return FileChannel.open(p, StandardOpenOption.READ);
    }

    private static String read(Spool.Segment s) throws IOException {
        byte[] all = Files.readAllBytes(s.path());
        return new String(all, (int) s.dataStart(), all.length - (int) s.dataStart(), StandardCharsets.UTF_8);
    }

    @Test
    void aSegmentHoldsTheRangeWithTheFileItCameFromAndSurvivesANewInstance() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\nline2\n")) {
            Spool.Written w = spool.write(C, "fp1", 42, ch, 6, 18);
            assertThat(w.keptUpTo()).isEqualTo(18);
            assertThat(read(w.segment())).isEqualTo("line1\nline2\n");
        }
        Spool again = new Spool(root.resolve("spool"), 1 << 20, new Metrics());
        List<Spool.Segment> segs = again.segments(ID);
        assertThat(segs).hasSize(1);
        Spool.Segment s = segs.get(0);
        assertThat(s.fileId()).isEqualTo("fp1");
        assertThat(s.base()).isEqualTo(6);
        assertThat(s.end()).isEqualTo(18);
        assertThat(s.firstTime()).isEqualTo(42);
        assertThat(again.bytes()).isEqualTo(12);
        assertThat(again.files()).isEqualTo(1);
        ContainerInfo back = again.containers().get(ID);
        assertThat(back.name()).isEqualTo("app");
        assertThat(back.imageName()).isEqualTo("img:1");
        assertThat(back.labels()).containsEntry("logferry.dataset", "web");
        assertThat(back.running()).isFalse();
        again.delete(s);
        assertThat(again.bytes()).isZero();
        assertThat(again.segments(ID)).isEmpty();
        assertThat(again.containers()).isEmpty();
    }

    @Test
    void segmentsComeBackInTheOrderTheyWereWritten() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("a\nb\nc\n")) {
            spool.write(C, "f1", 1, ch, 0, 2);
            spool.write(C, "f2", 2, ch, 2, 4);
            spool.write(C, "f3", 3, ch, 4, 6);
        }
        assertThat(spool.segments(ID)).extracting(Spool.Segment::fileId).containsExactly("f1", "f2", "f3");
        spool.deleteContainer(ID);
        assertThat(Files.exists(root.resolve("spool").resolve(ID))).isFalse();
        assertThat(spool.files()).isZero();
    }

    @Test
    void beyondMaxBytesOnlyWholeLinesAreKeptAndTheRestIsCountedLost() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 10, metrics);
        try (FileChannel ch = log("line0\nline1\nline2\n")) {
            Spool.Written w = spool.write(C, "fp", 0, ch, 0, 18);
            assertThat(w.keptUpTo()).as("10 bytes fit; the last newline before them ends line0").isEqualTo(6);
            assertThat(read(w.segment())).isEqualTo("line0\n");
            Spool.Written none = spool.write(C, "fp", 0, ch, 6, 18);
            assertThat(none.segment()).as("4 bytes left: no whole line fits").isNull();
        }
        assertThat(metrics.prometheus()).contains("logferry_spool_lost_bytes_total{reason=\"spool_limit\"} 24.0");
        assertThat(metrics.prometheus()).contains("logferry_spooled_bytes_total 6.0");
    }

    @Test
    void aSpoolThatCannotBeWrittenIsReportedAndItsContentsStayIntact() throws IOException {
        Path dir = root.resolve("spool");
        Spool spool = new Spool(dir, 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            spool.write(C, "fp", 0, ch, 0, 6);
            // the next segment's temporary file cannot be created (the tests run as root: permissions would not stop them)
            Path blocker = dir.resolve(ID).resolve("00000002.seg.tmp");
            Files.createDirectories(blocker.resolve("x"));
            assertThatThrownBy(() -> spool.write(C, "fp", 0, ch, 6, 12)).isInstanceOf(IOException.class);
            assertThat(spool.problem()).contains("cannot be written");
            assertThat(spool.segments(ID)).hasSize(1);
            assertThat(read(spool.segments(ID).get(0))).isEqualTo("line0\n");
            assertThat(spool.bytes()).isEqualTo(6);
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
            spool.write(C, "fp", 0, ch, 6, 12);
            assertThat(spool.problem()).as("works again").isNull();
            assertThat(spool.segments(ID)).hasSize(2);
        }
    }

    @Test
    void theSpoolStaysDegradedUntilTheCopyThatFailedIsInOrNoLongerWanted() throws IOException {
        Path dir = root.resolve("spool");
        Spool spool = new Spool(dir, 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            Path blocker = dir.resolve(ID).resolve("00000001.seg.tmp");
            Files.createDirectories(blocker.resolve("x"));
            assertThatThrownBy(() -> spool.write(C, "fp-a", 0, ch, 0, 6)).isInstanceOf(IOException.class);
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
            spool.write(C, "fp-b", 0, ch, 0, 6);
            assertThat(spool.problem()).as("another file's copy is in; fp-a's is not").contains("cannot be written");
            spool.write(C, "fp-a", 0, ch, 0, 6);
            assertThat(spool.problem()).as("the copy that failed is in").isNull();

            Files.createDirectories(dir.resolve(ID).resolve("00000004.seg.tmp").resolve("x"));
            assertThatThrownBy(() -> spool.write(C, "fp-c", 0, ch, 0, 6)).isInstanceOf(IOException.class);
            assertThat(spool.problem()).contains("cannot be written");
            spool.settled(ID, "fp-c");
            assertThat(spool.problem()).as("acknowledged meanwhile: the copy is no longer wanted").isNull();
        }
    }

    @Test
    void aCopyStalledOnASlowVolumeHoldsUpNeitherADeleteNorAListing() throws Exception {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n"); StalledChannel slow = new StalledChannel(FileChannel.open(root.resolve("log")))) {
            Spool.Segment first = spool.write(C, "fp-a", 0, ch, 0, 6).segment();
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
            java.util.concurrent.Future<Spool.Written> copy = threads.submit(() -> spool.write(C, "fp-b", 0, slow, 6, 12));
            assertThat(slow.entered.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the copy started").isTrue();
            // while the copy is stalled: the room is taken, the listing skips the half-written segment, a delete goes through
            assertThat(spool.bytes()).as("6 bytes in, 6 reserved").isEqualTo(12);
            java.util.concurrent.Future<?> delete = threads.submit(() -> spool.delete(first));
            delete.get(30, java.util.concurrent.TimeUnit.SECONDS);   // hang guard: under the old monitor it waited for the copy
            assertThat(spool.segments(ID)).isEmpty();
            assertThat(copy).isNotDone();
            slow.release.countDown();
            Spool.Segment second = copy.get(30, java.util.concurrent.TimeUnit.SECONDS).segment();
            assertThat(read(second)).isEqualTo("line1\n");
            assertThat(spool.segments(ID)).containsExactly(second);
            assertThat(spool.bytes()).isEqualTo(6);
            threads.shutdown();
        }
    }

    @Test
    void aTornSegmentIsLeftAloneAndNotShipped() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            Spool.Segment s = spool.write(C, "fp", 0, ch, 0, 12).segment();
            try (FileChannel w = FileChannel.open(s.path(), StandardOpenOption.WRITE)) {
                w.truncate(w.size() - 3);
            }
        }
        assertThat(new Spool(root.resolve("spool"), 1 << 20, new Metrics()).segments(ID)).isEmpty();
    }

    @Test
    void spoolFilesAreTheAgentsOnlyAsTheRegistryIs() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            Spool.Written w = spool.write(C, "fp1", 0, ch, 0, 12);
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(w.segment().path())))
                    .isEqualTo("rw-------");
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(root.resolve("spool").resolve(ID).resolve("container.json")))).isEqualTo("rw-------");
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("spool").resolve(ID))))
                    .isEqualTo("rwx------");
        }
    }

    @Test
    void halfWrittenSegmentsACrashLeftAreSweptAndCountedAtStart() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            spool.write(C, "fp1", 0, ch, 0, 12);
        }
        Path cdir = root.resolve("spool").resolve(ID);
        Files.writeString(cdir.resolve("00000002.seg.tmp"), "LFSPOOL1 {\"half");
        Path other = root.resolve("spool").resolve("d".repeat(64));
        Files.createDirectories(other);
        Files.writeString(other.resolve("00000001.seg.tmp"), "LFSPOOL1 {");
        Spool again = new Spool(root.resolve("spool"), 1 << 20, new Metrics());
        assertThat(again.swept()).isEqualTo(2);
        assertThat(Files.exists(cdir.resolve("00000002.seg.tmp"))).isFalse();
        assertThat(again.segments(ID)).hasSize(1);
        assertThat(Files.exists(other)).as("nothing else was in it: the directory goes too").isFalse();
    }

    @Test
    void aContainerDescriptionNamingAnotherContainerIsNotShipped() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            spool.write(C, "fp1", 0, ch, 0, 12);
        }
        Path desc = root.resolve("spool").resolve(ID).resolve("container.json");
        Files.writeString(desc, Files.readString(desc).replace(ID, "e".repeat(64)));
        assertThat(new Spool(root.resolve("spool"), 1 << 20, new Metrics()).containers()).isEmpty();
    }
}
