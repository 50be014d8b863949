package io.logferry.tail;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The early open of new containers' logs, on a real directory laid out like Docker's (inotify; no engine needed). */
class LogPrefetcherTest {
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);

    @TempDir
    Path root;
    private LogPrefetcher prefetcher;

    @BeforeEach
    void start() {
        prefetcher = new LogPrefetcher(root);
        prefetcher.start();
    }

    @AfterEach
    void stop() {
        prefetcher.close();
    }

    private Path createLog(String id, String text) throws IOException {
        Path dir = Files.createDirectories(root.resolve(id));
        return Files.writeString(dir.resolve(id + "-json.log"), text, StandardCharsets.UTF_8);
    }

    @Test
    void aNewContainersLogIsOpenedAtOnceAndHandedOverOnce() throws IOException {
        Path log = createLog(A, "first\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> prefetcher.heldCount() == 1);
        LogPrefetcher.Held h = prefetcher.take(A);
        assertThat(h).isNotNull();
        try (var ch = h.channel()) {
            assertThat(h.key()).isEqualTo(FileIdentity.key(log));
            assertThat(ch.size()).isEqualTo(6);
        }
        assertThat(prefetcher.take(A)).as("handed over once").isNull();
        assertThat(prefetcher.take(B)).as("never seen").isNull();
    }

    @Test
    void theOpenedFileStaysReadableAfterDockerRemovedTheContainer() throws IOException {
        Path log = createLog(A, "written by a --rm container\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> prefetcher.heldCount() == 1);
        Files.delete(log);
        Files.delete(log.getParent());
        LogPrefetcher.Held h = prefetcher.take(A);
        try (var ch = h.channel()) {
            ByteBuffer b = ByteBuffer.allocate(100);
            ch.read(b, 0);
            assertThat(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8)).isEqualTo("written by a --rm container\n");
        }
    }

    @Test
    void directoriesThatAreNotContainersAndOtherFilesAreIgnored() throws IOException {
        Files.createDirectories(root.resolve("not-a-container")).resolve("x-json.log");
        Files.writeString(root.resolve("not-a-container").resolve("not-a-container-json.log"), "x\n");
        Path dirB = Files.createDirectories(root.resolve(B));
        Files.writeString(dirB.resolve("config.v2.json"), "{}");
        createLog(A, "a\n");                      // the one that counts, created last
        await().atMost(Duration.ofSeconds(10)).until(() -> prefetcher.heldCount() == 1);
        assertThat(prefetcher.take(B)).isNull();
        assertThat(prefetcher.take(A)).isNotNull().satisfies(h -> h.channel().close());
    }

    @Test
    void aFileNobodyTakesIsClosedAfterItsTimeToLive() throws IOException {
        createLog(A, "never selected\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> prefetcher.heldCount() == 1);
        prefetcher.expire(System.nanoTime() + LogPrefetcher.TTL_NANOS + 1);
        assertThat(prefetcher.heldCount()).isZero();
        assertThat(prefetcher.take(A)).isNull();
    }

    /** Docker's rotation of a container's log: {@code -json.log.N} ... {@code -json.log.1} move up one, a new {@code -json.log}. */
    private static void rotate(Path dir, String id, int maxFile, String text) throws IOException {
        Path current = dir.resolve(id + "-json.log");
        Files.deleteIfExists(dir.resolve(id + "-json.log." + (maxFile - 1)));
        for (int n = maxFile - 2; n >= 1; n--) {
            Path from = dir.resolve(id + "-json.log." + n);
            if (Files.exists(from)) {
                Files.move(from, dir.resolve(id + "-json.log." + (n + 1)));
            }
        }
        Files.move(current, dir.resolve(id + "-json.log.1"));
        Files.writeString(current, text, StandardCharsets.UTF_8);
    }

    private static String firstBytes(java.nio.channels.FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16);
        ch.read(b, 0);
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    @Test
    void filesDockerRotatedBeforeThePrefetcherLookedAreHeldInTheirOrder() throws IOException {
        Path log = createLog(A, "one\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> prefetcher.heldCount() == 1);
        // two rotations in a burst: whenever the prefetch thread looks, the event's -json.log may name a later file
        rotate(log.getParent(), A, 5, "two\n");
        rotate(log.getParent(), A, 5, "three\n");
        rotate(log.getParent(), A, 5, "four\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            LogPrefetcher.Held h = prefetcher.peek(A);
            return h.newer().peek().size() == 3;
        });
        LogPrefetcher.Held h = prefetcher.take(A);
        List<String> order = new ArrayList<>();
        order.add(firstBytes(h.channel()));
        for (FileIdentity.Opened o : h.newer().peek()) {
            order.add(firstBytes(o.channel()));
        }
        assertThat(order).containsExactly("one\n", "two\n", "three\n", "four\n");
        assertThat(h.gapCount()).as("nothing deleted, nothing missed").isZero();
    }

    @Test
    void aFileDockerDeletedBeforeThePrefetcherCouldOpenItIsReportedAsAGap() throws IOException {
        Path log = createLog(A, "one\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> prefetcher.heldCount() == 1);
        // max-file=2: each rotation deletes the file before the previous one; the prefetch thread may or may not see "two"
        for (String t : List.of("two\n", "three\n", "four\n", "five\n")) {
            rotate(log.getParent(), A, 2, t);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<FileIdentity.Opened> n = prefetcher.peek(A).newer().peek();
            return !n.isEmpty() && firstBytes(n.get(n.size() - 1).channel()).equals("five\n");
        });
        LogPrefetcher.Held h = prefetcher.take(A);
        Set<String> held = new HashSet<>();
        for (FileIdentity.Opened o : h.newer().peek()) {
            held.add(firstBytes(o.channel()));
        }
        // each file is either held or counted as possibly missed: never silently absent
        boolean all = held.containsAll(List.of("two\n", "three\n", "four\n", "five\n"));
        assertThat(all || h.gapCount() > 0).as("held %s, gaps %d", held, h.gapCount()).isTrue();
    }
}
