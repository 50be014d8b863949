package io.logferry.spool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.ContainerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unacknowledged log bytes whose source file is about to be lost (its container removed, a
 * rotated file released beyond {@code limits.held_*}), copied to disk so that a crash cannot lose
 * them, in the original file's coordinates so that the documents' {@code _id}s stay the same.
 *
 * <pre>
 *   spool.path/
 *     &lt;container id&gt;/container.json        the container as discovery saw it (it may be gone at the next start)
 *     &lt;container id&gt;/00000003.seg           "LFSPOOL1 {json header}\n" + bytes [base, end) of the original file
 * </pre>
 *
 * The header names the original file (its fingerprint), the byte range and the time of the
 * file's first line (the order of a container's files). A segment is written to
 * {@code .seg.tmp}, synced, renamed and its directory synced before {@link #write} returns: what
 * it returns survives SIGKILL and power loss. Past {@code spool.max_bytes} only a prefix that ends
 * at a line boundary is kept and the rest is reported lost ({@code LOST:},
 * {@code logferry_spool_lost_bytes_total{reason="spool_limit"}}). When the volume fails (full,
 * read-only) the half-written segment is removed, the contents already there are left intact, the
 * error is logged and {@link #problem()} says so until a write succeeds again.
 *
 * <p>Thread-safety: thread-safe. The spool thread writes, the rotation watch and tailers delete
 * and list. One {@link java.util.concurrent.locks.ReentrantLock} (not a monitor: tailers are
 * virtual threads) guards the accounting, the segment numbers, listings and deletes; a write
 * reserves its room and number under it and copies and syncs outside it, so a slow volume never
 * holds up a delete. A segment being written is a {@code .seg.tmp}, which listings skip.
 * {@link #settled} and {@link #problem} do not take the lock;
 * reads of a segment go through its own file. Files are created 0600, directories 0700; at start,
 * {@code .seg.tmp} files a crash left are removed and counted ({@link #swept}).
 */
public final class Spool {
    private static final Logger log = LoggerFactory.getLogger(Spool.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String MAGIC = "LFSPOOL1 ";
    private static final String SUFFIX = ".seg";
    /** Spool files hold raw log bytes: readable by the agent's user only, as the registry is. */
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY_DIR =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    private static final java.util.Set<StandardOpenOption> OWNER_ONLY_WRITE =
            java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);

    /**
     * One spooled byte range of a log file.
     *
     * @param dataStart where the bytes start in the segment file (after its header)
     * @param firstTime the time of the original file's first line (epoch nanoseconds; 0 when unknown)
     */
    public record Segment(Path path, String containerId, long seq, String fileId, long base, long end, long firstTime,
                          long dataStart) {
        public long length() {
            return end - base;
        }
    }

    /** What {@link #write} kept: the segment (null when nothing could be kept) and the end of what it holds. */
    public record Written(Segment segment, long keptUpTo) { }

    private final Path dir;
    private final long maxBytes;
    private final Metrics metrics;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong files = new AtomicLong();
    /** Half-written segments a crash left, removed at start. */
    private final long swept;
    private volatile String problem;
    /**
     * The copies that failed and are still wanted (container id / file id → why): {@link #problem}
     * until each is in or settled. Concurrent, not under this instance's monitor, so that the
     * rotation watch never waits for a write's sync to settle one.
     */
    private final Map<String, String> failing = new java.util.concurrent.ConcurrentHashMap<>();
    /** Guards the accounting, the segment numbers and the listings; never held through a copy's writes and syncs. */
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    /** Guarded by {@link #lock}: the last segment number given to each container. */
    private final Map<String, Long> lastSeq = new HashMap<>();

    public Spool(Path dir, long maxBytes, Metrics metrics) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.metrics = metrics;
        long swept = 0;
        for (String id : containerIds()) {
            swept += sweepTemporary(id);
            for (Segment s : segments(id)) {
                bytes.addAndGet(s.length());
                files.incrementAndGet();
            }
        }
        this.swept = swept;
        if (swept > 0) {
            log.warn("spool {}: {} half-written segment(s) (.seg.tmp) left by a crash removed; what they held was never"
                    + " acknowledged as spooled, so its file was still held (or reported lost) at the time", dir, swept);
        }
        metrics.gauge(Metric.SPOOL_BYTES, bytes::get);
        metrics.gauge(Metric.SPOOL_FILES, files::get);
    }

    public Path dir() {
        return dir;
    }

    /** Null while the spool works, else why it does not (for {@code /health}). */
    public String problem() {
        return problem;
    }

    /** Bytes in the spool now. */
    public long bytes() {
        return bytes.get();
    }

    /** Half-written segments ({@code .seg.tmp}) a crash left, removed when this spool was opened. */
    public long swept() {
        return swept;
    }

    /** Removes a container's {@code .seg.tmp} files (a crash during a write); returns how many. */
    private long sweepTemporary(String containerId) {
        long n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.resolve(containerId), "*" + SUFFIX + ".tmp")) {
            for (Path p : ds) {
                if (Files.deleteIfExists(p)) {
                    n++;
                }
            }
        } catch (IOException e) {
            log.error("spool {}: cannot sweep {} ({})", dir, containerId, e.getMessage());
        }
        if (n > 0) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.resolve(containerId), "*" + SUFFIX)) {
                if (!ds.iterator().hasNext()) {
                    Files.deleteIfExists(dir.resolve(containerId).resolve("container.json"));
                    Files.deleteIfExists(dir.resolve(containerId));
                }
            } catch (IOException e) {
                log.debug("spool {}: {} not removed ({})", dir, containerId, e.getMessage());
            }
        }
        return n;
    }

    /** Segments in the spool now. */
    public long files() {
        return files.get();
    }

    /**
     * Copies the bytes {@code [start, end)} of {@code from} (the log file {@code fileId} of
     * {@code container}, read with positional reads) into a new segment, synced before it returns.
     * Beyond {@code spool.max_bytes} it keeps the longest prefix that ends after a newline, and
     * reports the rest lost. Returns what it kept (null segment: nothing).
     *
     * @throws IOException the spool volume failed: nothing new is in the spool, the old contents are intact
     */
    public Written write(ContainerInfo container, String fileId, long firstTime, FileChannel from, long start, long end)
            throws IOException {
        if (end <= start) {
            return new Written(null, start);
        }
        // the room is reserved and the segment numbered under the lock; the copy and its syncs run outside it, so that a
        // slow volume never holds up a delete (the rotation watch) or a tailer's listing
        long keep = end;
        long seq;
        lock.lock();
        try {
            long room = maxBytes - bytes.get();
            if (end - start > room) {
                keep = room <= 0 ? start : lastLineEnd(from, start, start + room);
                long lost = end - keep;
                metrics.counter(Metric.SPOOL_LOST_BYTES, "reason", "spool_limit").add(lost);
                metrics.counter(Metric.LOG_LOSSES, "container", container.name()).increment();
                log.warn("LOST: {}: the spool is full (spool.max_bytes {}, {} bytes spooled); bytes {}-{} of the log file {} could not"
                        + " be kept after their source went away: they are lost", container.describe(), maxBytes, bytes.get(), keep, end,
                        fileId);
            }
            if (keep <= start) {
                return new Written(null, start);
            }
            bytes.addAndGet(keep - start);
            seq = nextSeq(container.id());
        } finally {
            lock.unlock();
        }
        Path cdir = dir.resolve(container.id());
        Path target = cdir.resolve(String.format("%08d", seq) + SUFFIX);
        Path temp = cdir.resolve(String.format("%08d", seq) + SUFFIX + ".tmp");
        boolean in = false;
        try {
            if (!Files.isDirectory(cdir)) {
                if (!Files.isDirectory(dir)) {
                    Files.createDirectories(dir, OWNER_ONLY_DIR);
                }
                Files.createDirectories(cdir, OWNER_ONLY_DIR);
                syncDir(dir);
            }
            writeContainer(cdir, container);
            ObjectNode h = MAPPER.createObjectNode();
            h.put("container", container.id());
            h.put("file", fileId);
            h.put("base", start);
            h.put("end", keep);
            h.put("time", firstTime);
            byte[] header = (MAGIC + MAPPER.writeValueAsString(h) + "\n").getBytes(StandardCharsets.UTF_8);
            try (FileChannel out = FileChannel.open(temp, OWNER_ONLY_WRITE, OWNER_ONLY)) {
                writeFully(out, ByteBuffer.wrap(header));
                long pos = start;
                while (pos < keep) {
                    long n = from.transferTo(pos, keep - pos, out);
                    if (n <= 0) {
                        throw new IOException("the log file " + fileId + " ended at " + pos + " before " + keep);
                    }
                    pos += n;
                }
                out.force(true);
            }
            move(temp, target);
            syncDir(cdir);
            Segment s = new Segment(target, container.id(), seq, fileId, start, keep, firstTime, header.length);
            in = true;
            files.incrementAndGet();
            metrics.counter(Metric.SPOOLED_BYTES).add(s.length());
            // this copy is in; the spool stays degraded while another copy that failed is still wanted
            settledLocked(container.id(), fileId);
            return new Written(s, keep);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // a read-only volume: nothing was written either
            }
            if (!from.isOpen()) {
                throw e;                     // the log file was closed under the copy (its tailer ended): not the spool's fault
            }
            problem = "spool " + dir + " cannot be written (" + e + "); unacknowledged bytes of removed containers and"
                    + " released rotated files are not protected against a crash";
            failing.put(container.id() + "/" + fileId, problem);
            log.error("spool {}: writing bytes {}-{} of the log file {} of {} failed: {}; the spool's contents are intact,"
                    + " shipping goes on from the files still open", dir, start, keep, fileId, container.describe(), e.toString());
            throw e;
        } finally {
            if (!in) {
                bytes.addAndGet(-(keep - start));   // the reserved room goes back
            }
        }
    }

    /**
     * A copy of the log file {@code fileId} that failed is no longer wanted (its bytes were
     * acknowledged, or its tailer ended): it no longer keeps {@link #problem} set.
     */
    public void settled(String containerId, String fileId) {
        settledLocked(containerId, fileId);
    }

    private void settledLocked(String containerId, String fileId) {
        if (failing.remove(containerId + "/" + fileId) != null || problem != null) {
            String next = failing.values().stream().findFirst().orElse(null);
            if (next == null && problem != null) {
                log.info("spool {} works again: every copy that failed is in, or no longer needed", dir);
            }
            problem = next;
        }
    }

    /** The containers with a segment in the spool, as they were when spooled. */
    public Map<String, ContainerInfo> containers() {
        lock.lock();
        try {
            Map<String, ContainerInfo> out = new TreeMap<>();
            for (String id : containerIds()) {
                if (segments(id).isEmpty()) {
                    continue;
                }
                try {
                    ContainerInfo c = readContainer(dir.resolve(id).resolve("container.json"));
                    if (!c.id().equals(id)) {
                        log.error("spool {}: the container description in {} names the container {}; its spooled bytes are not shipped"
                                + " (left in place for inspection)", dir, id, c.id());
                        continue;
                    }
                    out.put(id, c);
                } catch (IOException | RuntimeException e) {
                    log.error("spool {}: the container description of {} is unreadable ({}); its spooled bytes cannot be shipped",
                            dir, id, e.getMessage());
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** A container's segments in the order they were written. */
    public List<Segment> segments(String containerId) {
        lock.lock();
        try {
            Path cdir = dir.resolve(containerId);
            List<Segment> out = new ArrayList<>();
            if (!Files.isDirectory(cdir)) {
                return out;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(cdir, "*" + SUFFIX)) {
                for (Path p : ds) {
                    try {
                        out.add(readSegment(containerId, p));
                    } catch (IOException | RuntimeException e) {
                        log.error("spool {}: segment {} is unreadable ({}); left in place", dir, p, e.getMessage());
                    }
                }
            } catch (IOException e) {
                log.error("spool {}: cannot list {} ({})", dir, cdir, e.getMessage());
            }
            out.sort(Comparator.comparingLong(Segment::seq));
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Everything in the segment is acknowledged: it goes (and its container's directory with its last segment). */
    public void delete(Segment s) {
        lock.lock();
        try {
            try {
                if (Files.deleteIfExists(s.path())) {
                    bytes.addAndGet(-s.length());
                    files.decrementAndGet();
                    log.debug("spool: {} acknowledged, deleted", s.path());
                }
                if (!hasSegmentFile(s.containerId())) {
                    Path cdir = dir.resolve(s.containerId());
                    Files.deleteIfExists(cdir.resolve("container.json"));
                    Files.deleteIfExists(cdir);
                }
            } catch (IOException e) {
                log.warn("spool {}: cannot delete the acknowledged segment {} ({})", dir, s.path(), e.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether the container's directory still has a segment file: names only, no header read (a delete is O(1) in segments read). */
    private boolean hasSegmentFile(String containerId) throws IOException {
        Path cdir = dir.resolve(containerId);
        if (!Files.isDirectory(cdir)) {
            return false;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(cdir, "*" + SUFFIX)) {
            return ds.iterator().hasNext();
        }
    }

    /** Every container with at least one segment (its description readable or not). */
    public java.util.Set<String> containerIdsWithSegments() {
        lock.lock();
        try {
            java.util.Set<String> out = new java.util.TreeSet<>();
            for (String id : containerIds()) {
                if (!segments(id).isEmpty()) {
                    out.add(id);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The container's segments will never be shipped ({@code why}): their bytes are counted
     * ({@code logferry_spool_lost_bytes_total{reason="not_shipped"}}), reported with a
     * {@code LOST:} line, and deleted with the container's directory.
     */
    public void discard(String containerId, String why) {
        lock.lock();
        try {
            List<Segment> segs = segments(containerId);
            long lost = segs.stream().mapToLong(Segment::length).sum();
            if (segs.isEmpty()) {
                return;
            }
            metrics.counter(Metric.SPOOL_LOST_BYTES, "reason", "not_shipped").add(lost);
            log.warn("LOST: container {}: {} spooled byte(s) in {} segment(s) are not shipped and are deleted from the spool: {}",
                    containerId.substring(0, Math.min(12, containerId.length())), lost, segs.size(), why);
            deleteContainer(containerId);
        } finally {
            lock.unlock();
        }
    }

    /** Everything of the container is acknowledged (or it is forgotten): its segments and description go. */
    public void deleteContainer(String containerId) {
        lock.lock();
        try {
            Path cdir = dir.resolve(containerId);
            if (!Files.isDirectory(cdir)) {
                return;
            }
            segments(containerId).forEach(this::delete);
            try {
                Files.deleteIfExists(cdir.resolve("container.json"));
                Files.deleteIfExists(cdir);
            } catch (IOException e) {
                log.debug("spool {}: {} not removed ({})", dir, cdir, e.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    private List<String> containerIds() {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
            ds.forEach(p -> out.add(p.getFileName().toString()));
        } catch (IOException e) {
            log.error("spool {}: cannot list it ({})", dir, e.getMessage());
        }
        return out;
    }

    /** The next segment number of a container: one more than any it had in this process or on disk. */
    private long nextSeq(String containerId) {
        Long last = lastSeq.get(containerId);
        if (last == null) {
            last = 0L;
            for (Segment s : segments(containerId)) {
                last = Math.max(last, s.seq());
            }
        }
        lastSeq.put(containerId, last + 1);
        return last + 1;
    }

    static Segment readSegment(String containerId, Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // the header is short
            }
            int nl = -1;
            for (int i = 0; i < b.position(); i++) {
                if (b.get(i) == '\n') {
                    nl = i;
                    break;
                }
            }
            String line = new String(b.array(), 0, Math.max(nl, 0), StandardCharsets.UTF_8);
            if (nl < 0 || !line.startsWith(MAGIC)) {
                throw new IOException("no spool header");
            }
            JsonNode h = MAPPER.readTree(line.substring(MAGIC.length()));
            long base = h.get("base").asLong();
            long end = h.get("end").asLong();
            if (ch.size() != nl + 1 + end - base) {
                throw new IOException("holds " + (ch.size() - nl - 1) + " bytes, its header says " + (end - base));
            }
            String name = p.getFileName().toString();
            long seq = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
            return new Segment(p, containerId, seq, h.get("file").asText(), base, end, h.path("time").asLong(0), nl + 1);
        }
    }

    private static void writeContainer(Path cdir, ContainerInfo c) throws IOException {
        Path p = cdir.resolve("container.json");
        if (Files.exists(p)) {
            return;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("name", c.name());
        m.put("image", c.imageName());
        m.put("labels", new TreeMap<>(c.labels()));
        m.put("log_path", c.logPath());
        m.put("log_driver", c.logDriver());
        Path temp = cdir.resolve("container.json.tmp");
        try (FileChannel out = FileChannel.open(temp, OWNER_ONLY_WRITE, OWNER_ONLY)) {
            writeFully(out, ByteBuffer.wrap(MAPPER.writeValueAsBytes(m)));
            out.force(true);
        }
        move(temp, p);
    }

    static ContainerInfo readContainer(Path p) throws IOException {
        JsonNode n = MAPPER.readTree(Files.readAllBytes(p));
        Map<String, String> labels = new HashMap<>();
        n.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        return new ContainerInfo(n.get("id").asText(), n.get("name").asText(), n.path("image").asText(""), labels,
                n.path("log_path").asText(""), n.path("log_driver").asText("json-file"), false);
    }

    /** The offset just after the last newline in {@code [from, to)}, or {@code from} when there is none. */
    public static long lastLineEnd(FileChannel ch, long from, long to) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        for (long pos = to; pos > from; ) {
            int n = (int) Math.min(b.capacity(), pos - from);
            pos -= n;
            b.clear().limit(n);
            while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
                // fill the window
            }
            for (int i = b.position() - 1; i >= 0; i--) {
                if (b.get(i) == '\n') {
                    return pos + i + 1;
                }
            }
        }
        return from;
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void syncDir(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException ignored) {
            // some filesystems cannot sync a directory; the rename is still atomic
        }
    }
}
