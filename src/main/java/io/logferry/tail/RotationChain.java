package io.logferry.tail;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One container's chain of json-file logs ({@code -json.log.N} ... {@code -json.log.1},
 * {@code -json.log}): which files are accounted for, and the files newer than the one being read,
 * opened as soon as they are seen so that Docker's rotation cannot delete them unread, and handed
 * to the {@link FileTailer} through a queue, oldest first.
 *
 * <pre>
 *   RotationWatch thread: check() ──stat, list, open, fingerprint──► known files (its own)
 *                                  └─ newer files ──► hand-off queue ──next()──► tailer thread
 *                                  └─ beyond limits.held_*: release the oldest queued, LOST
 *   tailer thread: reading(inode) ──volatile──► check()  (the file it reads is never "new")
 * </pre>
 *
 * <p>Ownership: the tailer's thread builds the chain and runs its first discovery in
 * {@link #start}, before it registers it with the {@link RotationWatch}; from then on the
 * watch's thread alone runs {@link #check} and owns {@code known} and {@code newestKey}. The
 * tailer only takes files ({@link #next}), says which file it reads ({@link #reading}, a
 * volatile), and closes the chain. The hand-off queue and the {@code closed} flag are guarded by
 * a {@link ReentrantLock}, never held during file I/O.
 */
final class RotationChain {
    private static final Logger log = LoggerFactory.getLogger(RotationChain.class);

    /** A file newer than the one being read, held open. */
    record Upcoming(FileChannel channel, Object key, String fileId, Path seenAs) { }

    private final Path dir;
    private final String containerId;
    private final Path current;
    private final Supplier<String> container;
    private final HeldFiles held;
    private final LongAdder lost;
    private final LongAdder lostBytes;

    /** Owned by the watch thread: every file accounted for (read, being read, queued, or before the start): inode → fingerprint. */
    private final Map<Object, String> known = new HashMap<>();
    /** Owned by the watch thread: the newest file handed to the tailer (or the one it started with). */
    private Object newestKey;
    /** Written by the tailer: the inode of the file it reads. */
    private volatile Object reading;
    /** Watch rounds completed, for {@link #awaitCheck}. */
    private final AtomicLong checks = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final ArrayDeque<Upcoming> upcoming = new ArrayDeque<>();
    /** Guarded by {@link #lock}. */
    private boolean closed;

    /**
     * @param container describes the container in log lines (it may be renamed)
     * @param lost, lostBytes the container's loss counters
     */
    RotationChain(Path dir, String containerId, Supplier<String> container, HeldFiles held, LongAdder lost, LongAdder lostBytes) {
        this.dir = dir;
        this.containerId = containerId;
        this.current = dir.resolve(containerId + "-json.log");
        this.container = container;
        this.held = held;
        this.lost = lost;
        this.lostBytes = lostBytes;
    }

    /** The container's log files, oldest first: {@code -json.log.N} ... {@code -json.log.1}, then {@code -json.log}. */
    List<Path> files() {
        List<Path> out = rotatedOldestFirst();
        if (Files.exists(current)) {
            out.add(current);
        }
        return out;
    }

    List<Path> rotatedOldestFirst() {
        List<Path> out = new ArrayList<>();
        for (int i = 1; i < 1000; i++) {
            Path p = dir.resolve(containerId + "-json.log." + i);
            if (!Files.exists(p)) {
                break;
            }
            out.add(0, p);
        }
        return out;
    }

    /**
     * On the tailer's thread, before {@link RotationWatch#add}: the tailer reads the file
     * {@code key} (fingerprint {@code fileId}, null while it has no complete line); the files
     * {@code older} than it are accounted for; the newer ones are opened and queued.
     */
    void start(List<Path> older, Object key, String fileId) throws IOException {
        for (Path p : older) {
            Object k = FileIdentity.key(p);
            String fp = FileIdentity.fingerprint(p);
            if (k != null && fp != null) {
                known.put(k, fp);
            }
        }
        if (fileId != null) {
            known.put(key, fileId);
        }
        newestKey = key;
        reading = key;
        discover();
    }

    /** The tailer: whether a newer file waits. */
    boolean hasNext() {
        lock.lock();
        try {
            return !upcoming.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** The tailer: the oldest file waiting, now the one it reads; null when none. */
    Upcoming next() {
        Upcoming u;
        lock.lock();
        try {
            u = upcoming.pollFirst();
        } finally {
            lock.unlock();
        }
        if (u != null) {
            reading = u.key();
        }
        return u;
    }

    /** Files held open beyond the one being read. */
    int heldCount() {
        lock.lock();
        try {
            return upcoming.size();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of the files held beyond the one being read (any thread). */
    long heldBytes() throws IOException {
        long total = 0;
        for (Upcoming u : snapshot()) {
            total += u.channel().size();
        }
        return total;
    }

    private List<Upcoming> snapshot() {
        lock.lock();
        try {
            return new ArrayList<>(upcoming);
        } finally {
            lock.unlock();
        }
    }

    /** The tailer ends: the held files are closed and no longer counted; the watch drops the chain. */
    void close() {
        List<Upcoming> left;
        lock.lock();
        try {
            closed = true;
            left = new ArrayList<>(upcoming);
            upcoming.clear();
            held.update(this, 0);
        } finally {
            lock.unlock();
        }
        left.forEach(u -> close(u.channel()));
    }

    /**
     * The tailer, before it decides that the container's logs are read to their end: waits
     * (at most {@code timeoutMillis}) for a whole check that started after this call, so that a
     * rotation just before the container stopped is not missed.
     */
    void awaitCheck(long timeoutMillis) throws InterruptedException {
        long target = checks.get() + 2;
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (checks.get() < target && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** The watch thread, every round: false once the tailer closed the chain. */
    boolean check() {
        if (isClosed()) {
            return false;
        }
        try {
            discoverIfRotated();
            boundHeld();
        } catch (IOException | RuntimeException e) {
            log.debug("{}: rotation check failed: {}", container.get(), e.getMessage());
        }
        checks.incrementAndGet();
        return true;
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #discover()}, but only when the log path no longer names the newest file: Docker
     * rotates by renaming {@code -json.log} and creating a new one, so while the path still names
     * the newest open file no newer file can exist. One {@code stat} instead of opening and
     * fingerprinting every file of the chain. (An open file's inode cannot be reused, so an equal
     * key is the same file.)
     */
    private void discoverIfRotated() throws IOException {
        if (newestKey != null && newestKey.equals(FileIdentity.key(current))) {
            return;
        }
        discover();
    }

    /**
     * Lists the container's log files and opens, oldest first, every one not yet accounted for:
     * any such file is newer than those known. Holding them open means Docker's rotation can
     * rename and delete them without losing a byte, as long as this runs more often than Docker
     * cycles through all {@code max-file} files. When even the newest known file is gone, files
     * may have come and gone unseen: that is reported as a loss.
     */
    private void discover() throws IOException {
        Object readingNow = reading;
        Set<Object> present = new HashSet<>();
        List<Upcoming> found = new ArrayList<>();
        for (Path p : files()) {
            // identity and first line from one open file: a path can be renamed between two calls
            FileIdentity.Opened o = FileIdentity.openStable(p);
            if (o == null) {
                continue;
            }
            Object key = o.key();
            // always read the first line again: Docker reuses the inode numbers of deleted files
            String fp = known.get(key);
            String now = FileIdentity.fingerprint(o.channel());
            boolean keep = false;
            try {
                if (now == null) {
                    continue;                // no complete first line yet: not a file to read yet
                }
                if (fp != null && fp.equals(now)) {
                    present.add(key);
                    continue;
                }
                if (key.equals(readingNow)) {
                    known.put(key, now);     // the file being read got its first line (or was truncated in place)
                    present.add(key);
                    continue;
                }
                found.add(new Upcoming(o.channel(), key, now, p));
                present.add(key);
                keep = true;
            } finally {
                if (!keep) {
                    o.channel().close();
                }
            }
        }
        handOver(found, present, readingNow);
    }

    /**
     * Queues the files {@code found} for the tailer (or closes them when it has gone), reports a
     * loss when even the newest known file is gone, and forgets what Docker deleted.
     */
    private void handOver(List<Upcoming> found, Set<Object> present, Object readingNow) {
        if (newestKey != null && !present.contains(newestKey) && !found.isEmpty()) {
            lost.increment();
            log.warn("LOST: {}: Docker rotated every log file known to the agent away within one check; files written in between"
                    + " may have been deleted unread (the agent is behind the container's write rate)", container.get());
        }
        List<Upcoming> queued;
        lock.lock();
        try {
            if (!closed) {
                upcoming.addAll(found);
            }
            queued = new ArrayList<>(upcoming);
        } finally {
            lock.unlock();
        }
        if (isClosed()) {
            found.forEach(u -> close(u.channel()));
            return;
        }
        for (Upcoming u : found) {
            known.put(u.key(), u.fileId());
            newestKey = u.key();
        }
        // forget what Docker deleted, except what is still held open
        Set<Object> open = new HashSet<>();
        queued.forEach(u -> open.add(u.key()));
        known.keySet().removeIf(k -> !present.contains(k) && !k.equals(readingNow) && !open.contains(k));
    }

    /**
     * Holds at most {@code limits.held_files_per_container} files beyond the one being read, and
     * together with all other tailers at most {@code limits.held_bytes_total} unread bytes in
     * them: beyond either, the oldest held file is closed unread and its bytes reported as lost
     * ({@code LOST:}, {@code logferry_log_losses_total}, {@code logferry_log_lost_bytes_total}).
     * The newest file is always kept: it is where the container writes. A released file stays
     * known by its fingerprint, so it is not opened again while Docker keeps it.
     */
    private void boundHeld() {
        while (true) {
            List<Upcoming> seen = snapshot();
            long bytes = 0;
            for (Upcoming u : seen) {
                bytes += size(u.channel());
            }
            Upcoming u;
            int left;
            long total;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                if (upcoming.size() != seen.size() || upcoming.peekFirst() != (seen.isEmpty() ? null : seen.get(0))) {
                    continue;                // the tailer took a file meanwhile: count again
                }
                total = held.update(this, bytes);
                if (upcoming.size() <= 1 || !held.over(upcoming.size())) {
                    return;
                }
                u = upcoming.pollFirst();
                left = upcoming.size();
            } finally {
                lock.unlock();
            }
            long size = size(u.channel());
            close(u.channel());
            lost.increment();
            lostBytes.add(size);
            log.warn("LOST: {}: a rotated log file (fingerprint {}, first seen as {}) was held open unread while the tailer was"
                    + " behind; released to stay within limits.held_files_per_container ({}, {} held) and limits.held_bytes_total"
                    + " ({}, {} held by all containers): its bytes 0-{} are lost", container.get(), u.fileId(), u.seenAs().getFileName(),
                    held.filesPerContainer(), left + 1, held.bytesTotal(), total, size);
        }
    }

    private static long size(FileChannel ch) {
        try {
            return ch.size();
        } catch (IOException e) {
            return 0;
        }
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a read-only file
        }
    }
}
