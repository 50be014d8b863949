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

    /** {@code n} lines of {@code width} bytes each, the newline included. */
    private static String lines(String tag, int n, int width) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String head = tag + " " + i + " ";
            b.append(head).append("x".repeat(width - 1 - head.length())).append('\n');
        }
        return b.toString();
    }

    private static ContainerInfo container(char c, String name) {
        String id = String.valueOf(c).repeat(64);
        return new ContainerInfo(id, "/" + name, "img:1", Map.of(), "/x/" + id + "-json.log", "json-file", true);
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
        assertThat(again.bytes()).as("its directory, its description and the segment: a block each").isEqualTo(3 * Spool.BLOCK);
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
        // three blocks: the directory, the description, and one for the segment's header and bytes
        Spool spool = new Spool(root.resolve("spool"), 3 * Spool.BLOCK, metrics);
        String text = lines("l", 100, 100);                // 100 lines of 100 bytes
        try (FileChannel ch = log(text)) {
            Spool.Written w = spool.write(C, "fp", 0, ch, 0, text.length());
            long header = w.segment().dataStart();
            long whole = (Spool.BLOCK - header) / 100 * 100;
            assertThat(w.keptUpTo()).as("the whole lines that fit in the block beside the header").isEqualTo(whole);
            assertThat(read(w.segment())).isEqualTo(text.substring(0, (int) whole));
            assertThat(spool.bytes()).isEqualTo(3 * Spool.BLOCK);
            Spool.Written none = spool.write(C, "fp", 0, ch, whole, text.length());
            assertThat(none.segment()).as("no room left").isNull();
            assertThat(none.keptUpTo()).isEqualTo(whole);
            long lost = 2 * (text.length() - whole);
            assertThat(metrics.prometheus()).contains("logferry_spool_lost_bytes_total{reason=\"spool_limit\"} " + lost + ".0")
                    .contains("logferry_spooled_bytes_total " + whole + ".0")
                    .contains("logferry_log_losses_total{container=\"app\"} 2.0");
        }
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
            assertThat(spool.bytes()).as("what failed is not counted").isEqualTo(3 * Spool.BLOCK);
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
            assertThat(spool.bytes()).as("one segment in, one block reserved, the directory and description").isEqualTo(4 * Spool.BLOCK);
            java.util.concurrent.Future<?> delete = threads.submit(() -> spool.delete(first));
            delete.get(30, java.util.concurrent.TimeUnit.SECONDS);   // hang guard: under the old monitor it waited for the copy
            assertThat(spool.segments(ID)).isEmpty();
            assertThat(copy).isNotDone();
            slow.release.countDown();
            Spool.Segment second = copy.get(30, java.util.concurrent.TimeUnit.SECONDS).segment();
            assertThat(read(second)).isEqualTo("line1\n");
            assertThat(spool.segments(ID)).containsExactly(second);
            assertThat(spool.bytes()).isEqualTo(3 * Spool.BLOCK);
            threads.shutdown();
        }
    }

    @Test
    void aCopyStalledOnASlowVolumeHoldsUpNothingTheRotationWatchOrAnotherContainerCalls() throws Exception {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        ContainerInfo other = container('d', "other");
        try (FileChannel ch = log("line0\nline1\n"); StalledChannel slow = new StalledChannel(FileChannel.open(root.resolve("log")))) {
            Spool.Segment first = spool.write(C, "fp-a", 0, ch, 0, 6).segment();
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
            java.util.concurrent.Future<Spool.Written> copy = threads.submit(() -> spool.write(C, "fp-b", 0, slow, 6, 12));
            assertThat(slow.entered.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the copy started").isTrue();
            java.util.concurrent.Future<String> calls = threads.submit(() -> {
                StringBuilder took = new StringBuilder();
                long t = System.nanoTime();
                spool.register(other.id());
                spool.share();
                spool.settled(ID, "fp-x");
                spool.containerIdsWithSegments();
                spool.containers();
                took.append("listings ").append((System.nanoTime() - t) / 1_000).append(" us; ");
                t = System.nanoTime();
                Spool.Written w = spool.write(other, "fp-d", 0, ch, 0, 12);
                took.append("another container's copy ").append((System.nanoTime() - t) / 1_000_000).append(" ms (kept ")
                        .append(w.keptUpTo()).append("); ");
                t = System.nanoTime();
                spool.delete(first);
                spool.unregister(other.id());
                took.append("delete ").append((System.nanoTime() - t) / 1_000).append(" us");
                return took.toString();
            });
            // hang guard: under a lock held through the copy's syncs, every one of these waited for the stalled copy
            System.out.println("[spool] while a copy is stalled: " + calls.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertThat(copy).isNotDone();
            assertThat(spool.segments(other.id())).hasSize(1);
            slow.release.countDown();
            assertThat(copy.get(30, java.util.concurrent.TimeUnit.SECONDS).keptUpTo()).isEqualTo(12);
            assertThat(spool.segments(ID)).hasSize(1);
            threads.shutdown();
        }
    }

    @Test
    void aTornSegmentIsSweptCountedAndNotShipped() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, metrics);
        Spool.Segment s;
        try (FileChannel ch = log("line0\nline1\n")) {
            s = spool.write(C, "fp", 0, ch, 0, 12).segment();
            try (FileChannel w = FileChannel.open(s.path(), StandardOpenOption.WRITE)) {
                w.truncate(w.size() - 3);
            }
        }
        Metrics m = new Metrics();
        Spool again = new Spool(root.resolve("spool"), 1 << 20, m);
        assertThat(again.segments(ID)).isEmpty();
        assertThat(Files.exists(s.path())).isFalse();
        assertThat(again.bytes()).isZero();
        assertThat(m.prometheus()).contains("logferry_spool_swept_files_total{reason=\"unreadable\"} 1.0")
                .contains("logferry_spool_lost_bytes_total{reason=\"not_shipped\"} " + (s.dataStart() + 9) + ".0");
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

    @Test
    void aContainerBeyondItsShareLosesOnlyItsOwnBytesAndTheOthersShareStaysFree() throws IOException {
        long max = 64 * Spool.BLOCK;
        Spool spool = new Spool(root.resolve("spool"), max, metrics);
        ContainerInfo hog = container('a', "hog");
        ContainerInfo victim = container('b', "victim");
        spool.register(hog.id());
        spool.register(victim.id());                        // its tailer runs: it has no segment yet
        assertThat(spool.share()).isEqualTo(max / 2);
        String big = lines("h", 3_000, 100);                // 300,000 bytes: more than the whole spool
        try (FileChannel ch = log(big)) {
            Spool.Written w = spool.write(hog, "fp-h", 0, ch, 0, big.length());
            assertThat(w.segment()).isNotNull();
            assertThat(w.keptUpTo() % 100).as("whole lines").isZero();
            assertThat(spool.bytes()).as("the hog took its share and no more").isLessThanOrEqualTo(max / 2);
            assertThat(spool.write(hog, "fp-h", 0, ch, w.keptUpTo(), big.length()).segment()).as("nothing more for the hog").isNull();
            assertThat(metrics.prometheus()).contains("logferry_spool_lost_bytes_total{reason=\"spool_limit\"} "
                    + 2 * (big.length() - w.keptUpTo()) + ".0").contains("logferry_log_losses_total{container=\"hog\"} 2.0");
        }
        String mine = lines("v", 1_000, 100);               // 100,000 bytes: within its share with its blocks
        try (FileChannel ch = log(mine)) {
            Spool.Written w = spool.write(victim, "fp-v", 0, ch, 0, mine.length());
            assertThat(w.keptUpTo()).as("the victim's share was kept for it").isEqualTo(mine.length());
        }
        assertThat(metrics.prometheus()).doesNotContain("logferry_log_losses_total{container=\"victim\"}");
        assertThat(spool.bytes()).isLessThanOrEqualTo(max);
    }

    @Test
    void aContainerAloneMayUseTheWholeSpoolAndRoomNobodyIsGuaranteed() throws IOException {
        long max = 64 * Spool.BLOCK;
        Spool spool = new Spool(root.resolve("spool"), max, metrics);
        ContainerInfo a = container('a', "a");
        ContainerInfo b = container('b', "b");
        String text = lines("a", 2_000, 100);
        try (FileChannel ch = log(text)) {
            Spool.Written w = spool.write(a, "fp-a", 0, ch, 0, 200_000);
            assertThat(w.keptUpTo()).as("alone: beyond half the spool").isEqualTo(200_000);
        }
        spool.register(b.id());
        String small = lines("b", 100, 100);
        try (FileChannel ch = log(small)) {
            // b's share is half, but a took more before b was known: b gets what is free, and a keeps what it has
            Spool.Written w = spool.write(b, "fp-b", 0, ch, 0, small.length());
            assertThat(w.keptUpTo()).isEqualTo(small.length());
        }
        try (FileChannel ch = log(text)) {
            assertThat(spool.write(a, "fp-a2", 0, ch, 0, 20_000).segment())
                    .as("a is beyond its share now: the free room is b's").isNull();
        }
        assertThat(spool.bytes()).isLessThanOrEqualTo(max);
    }

    @Test
    void aContainerWhoseTailerEndedAndWithoutSegmentsNoLongerHoldsAShare() throws IOException {
        long max = 64 * Spool.BLOCK;
        Spool spool = new Spool(root.resolve("spool"), max, metrics);
        ContainerInfo a = container('a', "a");
        spool.register(a.id());
        spool.register("b".repeat(64));
        assertThat(spool.share()).isEqualTo(max / 2);
        spool.unregister("b".repeat(64));
        assertThat(spool.share()).isEqualTo(max);
        String text = lines("a", 2_000, 100);
        try (FileChannel ch = log(text)) {
            assertThat(spool.write(a, "fp-a", 0, ch, 0, 200_000).keptUpTo()).isEqualTo(200_000);
        }
    }

    @Test
    void beyondMaxSegmentsPerContainerTheCopyIsRefusedAndCountedAsTheContainersLoss() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1 << 20, 3, metrics);
        ContainerInfo other = container('d', "other");
        try (FileChannel ch = log("a\nb\nc\nd\n")) {
            spool.write(C, "f1", 0, ch, 0, 2);
            spool.write(C, "f2", 0, ch, 2, 4);
            spool.write(C, "f3", 0, ch, 4, 6);
            Spool.Written w = spool.write(C, "f4", 0, ch, 6, 8);
            assertThat(w.segment()).isNull();
            assertThat(w.keptUpTo()).isEqualTo(6);
            assertThat(spool.write(other, "g1", 0, ch, 0, 8).segment()).as("another container's own bound").isNotNull();
            spool.delete(spool.segments(ID).get(0));
            assertThat(spool.write(C, "f4", 0, ch, 6, 8).segment()).as("one went: room for one").isNotNull();
        }
        assertThat(metrics.prometheus()).contains("logferry_spool_lost_bytes_total{reason=\"segment_limit\"} 2.0")
                .contains("logferry_log_losses_total{container=\"app\"} 1.0");
    }

    @Test
    void deletesAndListingsUseTheIndexNotTheDirectory() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1L << 30, 100_000, metrics);
        int n = 2_000;
        try (FileChannel ch = log("a\n")) {
            for (int i = 0; i < n; i++) {
                spool.write(C, "f" + i, 0, ch, 0, 2);
            }
        }
        List<Spool.Segment> segs = spool.segments(ID);
        assertThat(segs).hasSize(n);
        // every header on disk is garbage now: a delete that read them (as it once did, every segment's, at every delete)
        // would not find its way; the index does
        for (Spool.Segment s : segs) {
            Files.writeString(s.path(), "garbage");
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < n - 1; i++) {
            spool.delete(segs.get(i));
        }
        System.out.printf("[spool] %d deletes of %d segments took %d ms%n", n - 1, n, (System.nanoTime() - t0) / 1_000_000);
        assertThat(spool.segments(ID)).containsExactly(segs.get(n - 1));
        assertThat(spool.files()).isEqualTo(1);
        assertThat(spool.bytes()).isEqualTo(3 * Spool.BLOCK);
        spool.delete(segs.get(n - 1));
        spool.delete(segs.get(n - 1));                      // twice: counted once
        assertThat(spool.bytes()).isZero();
        assertThat(spool.files()).isZero();
        assertThat(Files.exists(root.resolve("spool").resolve(ID))).isFalse();
    }

    @Test
    void whatTheSpoolOccupiesIsCountedInBlocksWithHeadersAndDescriptions() throws IOException {
        Spool spool = new Spool(root.resolve("spool"), 1L << 30, metrics);
        String text = lines("l", 100, 100);                 // 10,000 bytes
        try (FileChannel ch = log(text)) {
            Spool.Segment s = spool.write(C, "fp", 0, ch, 0, 10_000).segment();
            long segFile = Files.size(s.path());
            assertThat(segFile).isEqualTo(s.dataStart() + 10_000);
            long descFile = Files.size(root.resolve("spool").resolve(ID).resolve("container.json"));
            long expected = Spool.BLOCK + Spool.blocks(descFile) + Spool.blocks(segFile);
            assertThat(expected).isEqualTo(Spool.BLOCK + Spool.BLOCK + 3 * Spool.BLOCK);
            assertThat(spool.bytes()).isEqualTo(expected);
            assertThat(metrics.prometheus()).contains("logferry_spool_bytes " + expected + ".0");
            spool.write(C, "fp", 0, ch, 0, 1);
            assertThat(spool.bytes()).as("one byte takes a block").isEqualTo(expected + Spool.BLOCK);
            assertThat(new Spool(root.resolve("spool"), 1L << 30, new Metrics()).bytes()).as("the same when read again")
                    .isEqualTo(expected + Spool.BLOCK);
        }
    }

    @Test
    void segmentsOfAnotherVersionAndFilesTheAgentDidNotWriteAreSweptAndCountedAtStart() throws IOException {
        Path dir = root.resolve("spool");
        Spool spool = new Spool(dir, 1 << 20, metrics);
        try (FileChannel ch = log("line0\nline1\n")) {
            spool.write(C, "fp1", 0, ch, 0, 12);
        }
        Path cdir = dir.resolve(ID);
        Files.writeString(cdir.resolve("00000007.seg"), "LFSPOOL2 {\"whatever\":1}\n0123456789");
        Files.writeString(cdir.resolve("notes.txt"), "hello");
        Files.writeString(cdir.resolve("container.json.tmp"), "{");
        Files.writeString(dir.resolve("stray"), "x");
        Files.createDirectories(dir.resolve("lost+found"));
        Path other = dir.resolve("e".repeat(64));
        Files.createDirectories(other);
        Files.writeString(other.resolve("00000001.seg"), "LFSPOOL3 {}\nabc");
        Files.writeString(other.resolve("container.json"), "{}");
        // a segment whose header names another container than its directory
        Path third = dir.resolve("f".repeat(64));
        Files.createDirectories(third);
        Files.writeString(third.resolve("00000001.seg"), "LFSPOOL1 {\"container\":\"" + ID + "\",\"file\":\"x\",\"base\":0,\"end\":3}\nabc");

        long thirdSize = Files.size(third.resolve("00000001.seg"));
        Metrics m = new Metrics();
        Spool again = new Spool(dir, 1 << 20, m);
        assertThat(again.swept()).isEqualTo(6);
        assertThat(again.segments(ID)).hasSize(1);
        assertThat(again.containerIdsWithSegments()).containsExactly(ID);
        assertThat(Files.exists(cdir.resolve("00000007.seg"))).isFalse();
        assertThat(Files.exists(cdir.resolve("notes.txt"))).isFalse();
        assertThat(Files.exists(dir.resolve("stray"))).isFalse();
        assertThat(Files.exists(other)).as("nothing usable was in it: the directory goes").isFalse();
        assertThat(Files.exists(third)).isFalse();
        assertThat(Files.isDirectory(dir.resolve("lost+found"))).as("not the agent's: left alone").isTrue();
        assertThat(again.bytes()).isEqualTo(3 * Spool.BLOCK);
        assertThat(m.prometheus())
                .contains("logferry_spool_swept_files_total{reason=\"other_version\"} 2.0")
                .contains("logferry_spool_swept_files_total{reason=\"unknown\"} 2.0")
                .contains("logferry_spool_swept_files_total{reason=\"temporary\"} 1.0")
                .contains("logferry_spool_swept_files_total{reason=\"unreadable\"} 1.0")
                .contains("logferry_spool_lost_bytes_total{reason=\"not_shipped\"} " + (10 + 3 + thirdSize) + ".0");
    }
}
