package io.logferry.tail;

import io.logferry.model.ContainerInfo;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * What the rotation chain's unit tests share: a container's log directory that the test rotates
 * and deletes in by hand (as Docker's json-file driver does: rename {@code -json.log} to
 * {@code .1}, shifting the others, then create a new one), a clock turned by hand, and an executor
 * whose jobs (the spool thread's copies) run only when the test says.
 */
final class ChainFixture {
    static final String ID = "d".repeat(64);
    static final ContainerInfo C = new ContainerInfo(ID, "/app", "img:1", Map.of(), "/x/" + ID + "-json.log", "json-file", true);

    private ChainFixture() { }

    /** A fake {@code System.nanoTime}: moves only when the test turns it. */
    static final class Clock implements LongSupplier {
        private long now = 1_000_000_000L;

        @Override
        public long getAsLong() {
            return now;
        }

        void advanceMillis(long ms) {
            now += ms * 1_000_000L;
        }
    }

    /** The spool thread, run by hand: jobs queue until {@link #runAll}. */
    static final class Jobs implements Executor {
        private final List<Runnable> queued = new ArrayList<>();

        @Override
        public void execute(Runnable job) {
            queued.add(job);
        }

        int size() {
            return queued.size();
        }

        /** Runs the jobs queued now (not those they queue); returns how many ran. */
        int runAll() {
            List<Runnable> now = new ArrayList<>(queued);
            queued.clear();
            now.forEach(Runnable::run);
            return now.size();
        }
    }

    /** A json-file line Docker would write. */
    static String line(String text, int second) {
        return String.format("{\"log\":\"%s\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:%02d.000000000Z\"}%n", text, second);
    }

    static Path current(Path dir) {
        return dir.resolve(ID + "-json.log");
    }

    static Path rotated(Path dir, int n) {
        return dir.resolve(ID + "-json.log." + n);
    }

    /** Writes {@code content} to the live log (creating it). */
    static Path write(Path dir, String content) throws IOException {
        return Files.writeString(current(dir), content, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Docker's rotation with {@code max-file} {@code maxFile}: the oldest beyond it deleted, each
     * {@code .N} renamed {@code .N+1}, the live log renamed {@code .1}, a new live log created with
     * {@code firstLine}.
     */
    static void rotate(Path dir, int maxFile, String firstLine) throws IOException {
        Files.deleteIfExists(rotated(dir, maxFile - 1));
        for (int n = maxFile - 2; n >= 1; n--) {
            if (Files.exists(rotated(dir, n))) {
                Files.move(rotated(dir, n), rotated(dir, n + 1));
            }
        }
        Files.move(current(dir), rotated(dir, 1));
        write(dir, firstLine);
    }

    static FileChannel open(Path p) throws IOException {
        return FileChannel.open(p, StandardOpenOption.READ);
    }

    static String firstLine(FileChannel ch) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(200);
        ch.read(b, 0);
        String s = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
        return s.substring(0, s.indexOf('\n') + 1);
    }
}
