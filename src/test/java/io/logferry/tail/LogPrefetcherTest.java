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
}
