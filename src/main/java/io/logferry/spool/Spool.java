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
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

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
 * The header names the container, the original file (its fingerprint), the byte range and the
 * time of the file's first line. A segment is written to {@code .seg.tmp}, synced, renamed and
 * its directory synced before {@link #write} returns: what it returns survives SIGKILL and power
 * loss. When the volume fails (full, read-only) the half-written segment is removed, the contents
 * already there are left intact, the error is logged and {@link #problem()} says so until every
 * copy that failed is in or no longer wanted.
 *
 * <p>Budget. What the spool occupies is counted as the filesystem holds it: every segment file
 * (header and bytes) rounded up to {@value #BLOCK}-byte blocks, and per container its directory
 * and {@code container.json} ({@link #bytes()}, {@code logferry_spool_bytes}), against
 * {@code spool.max_bytes}. It is shared fairly, as {@link io.logferry.tail.HeldFiles} shares the
 * held bytes: each container the spool knows (it has segments here, or a tailer registered it,
 * {@link #register}) is guaranteed {@code max_bytes / n}. A copy is let in only as far as the
 * room left after it still holds what the other containers have not used of their shares
 * ({@link #keptForOthers}); so a container within its share finds its room, and one beyond it
 * can only use room nobody else is guaranteed. Nothing already in the spool is ever evicted: what
 * does not fit is the writing container's own loss, kept as the longest prefix that ends after a
 * newline, the rest reported once with its range and count ({@code LOST:},
 * {@code logferry_spool_lost_bytes_total{reason="spool_limit"}}). A container has at most
 * {@code spool.max_segments_per_container} segments; a copy beyond is refused the same way
 * ({@code reason="segment_limit"}). The guarantee holds among the containers known when room is
 * given: a container that appears after others took room beyond their shares gets its share as
 * their segments are acknowledged (its copies meanwhile get what is free).
 *
 * <p>Opening. A spool directory is read once, when this instance is made, into an in-memory
 * index of each container's segments; from then on listings and deletes use the index (a delete
 * is O(log n) in the container's segments, and reads no header). What the agent cannot use is
 * swept then, counted and logged, never left silently: half-written {@code .seg.tmp} and
 * {@code container.json.tmp} files a crash left, segments of another format version or whose
 * header does not match the file or its directory ({@code LOST:},
 * {@code logferry_spool_lost_bytes_total{reason="not_shipped"}}), files the agent did not write;
 * every one in {@code logferry_spool_swept_files_total{reason}}. A directory whose name is not a
 * container id is not the agent's (it may be a volume's {@code lost+found}): left in place, logged.
 *
 * <p>Thread-safety: thread-safe. The spool thread writes, the rotation watch and tailers delete
 * and list. One {@link ReentrantLock} (not a monitor: tailers are virtual threads) guards the
 * index and the accounting; a write reserves its room and number under it and copies and syncs
 * outside it, so a slow volume never holds up a delete or a listing. A segment being written is
 * in no listing until it is in. {@link #bytes}, {@link #files}, {@link #settled} and
 * {@link #problem} do not take the lock. Files are created 0600, directories 0700.
 */
public final class Spool {
    private static final Logger log = LoggerFactory.getLogger(Spool.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String MAGIC = "LFSPOOL1 ";
    /** The start every version of the header shares; another digit after it is another format version. */
    private static final String MAGIC_FAMILY = "LFSPOOL";
    private static final String SUFFIX = ".seg";
    private static final String DESCRIPTION = "container.json";
    /** The filesystem's allocation unit the accounting rounds every file up to. */
    static final long BLOCK = 4096;
    /** {@code spool.max_segments_per_container}'s default. */
    public static final int DEFAULT_MAX_SEGMENTS = 1000;
    private static final Pattern CONTAINER_ID = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SEGMENT_NAME = Pattern.compile("[0-9]{8,18}\\.seg");
    /** Spool files hold raw log bytes: readable by the agent's user only, as the registry is. */
    private static final FileAttribute<?> OWNER_ONLY = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<?> OWNER_ONLY_DIR = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final Set<StandardOpenOption> OWNER_ONLY_WRITE =
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);

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

        /** What the segment file occupies on disk: header and bytes, in whole blocks. */
        public long occupied() {
            return blocks(dataStart + length());
        }
    }

    /** What {@link #write} kept: the segment (null when nothing could be kept) and the end of what it holds. */
    public record Written(Segment segment, long keptUpTo) { }

    /** A segment whose header is of another format version than this agent's ({@link #MAGIC}). */
    static final class OtherVersion extends IOException {
        final long bytes;

        OtherVersion(String magic, long bytes) {
            super("another format version (" + magic + ")");
            this.bytes = bytes;
        }
    }

    /** One container's part of the spool: its segments by number and what it occupies. Guarded by {@link #lock}. */
    private static final class Part {
        final TreeMap<Long, Segment> segments = new TreeMap<>();
        /** Its directory and description, counted while it has a segment or a copy in progress. */
        long meta;
        /** meta + its segments' blocks + the room reserved by its copies in progress. */
        long occupied;
        /** Copies in progress (numbered, room reserved, not in {@link #segments} yet). */
        int writing;

        boolean idle() {
            return segments.isEmpty() && writing == 0;
        }
    }

    private final Path dir;
    private final long maxBytes;
    private final int maxSegments;
    private final Metrics metrics;
    /** Σ of every part's occupied: what {@code spool.max_bytes} bounds (written under the lock, read anywhere). */
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong files = new AtomicLong();
    /** Files swept when this spool was opened (half-written, other-version, unreadable, unknown). */
    private final long swept;
    private volatile String problem;
    /**
     * The copies that failed and are still wanted (container id / file id → why): {@link #problem}
     * until each is in or settled. Concurrent, not under the lock, so that the rotation watch
     * never waits for anything to settle one.
     */
    private final Map<String, String> failing = new java.util.concurrent.ConcurrentHashMap<>();
    /** Guards {@link #parts}, {@link #active}, {@link #lastSeq} and the accounting; never held through a copy's writes and syncs. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}: the index, each container with a segment or a copy in progress. */
    private final Map<String, Part> parts = new HashMap<>();
    /** Guarded by {@link #lock}: containers whose tailer runs (registrations each), guaranteed a share even before their first copy. */
    private final Map<String, Integer> active = new HashMap<>();
    /** Guarded by {@link #lock}: the last segment number given to a container whose directory is still there. */
    private final Map<String, Long> lastSeq = new HashMap<>();

    public Spool(Path dir, long maxBytes, Metrics metrics) {
        this(dir, maxBytes, DEFAULT_MAX_SEGMENTS, metrics);
    }

    /** @param maxSegments {@code spool.max_segments_per_container} */
    public Spool(Path dir, long maxBytes, int maxSegments, Metrics metrics) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.maxSegments = maxSegments;
        this.metrics = metrics;
        this.swept = open();
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

    /** What the spool occupies now (blocks of its segments, directories and descriptions, and room reserved by copies in progress). */
    public long bytes() {
        return bytes.get();
    }

    /** Segments in the spool now. */
    public long files() {
        return files.get();
    }

    /** Files swept when this spool was opened: half-written, of another format version, unreadable, not the agent's. */
    public long swept() {
        return swept;
    }

    /** Rounds a file's size up to whole {@link #BLOCK}s (an empty file still takes an inode, counted as one block). */
    static long blocks(long size) {
        return Math.max(1, (size + BLOCK - 1) / BLOCK) * BLOCK;
    }

    /**
     * The container's tailer runs: it is guaranteed its share of the spool from now on, even
     * before it has a segment (a hog cannot take the room it will need), until {@link #unregister}.
     */
    public void register(String containerId) {
        lock.lock();
        try {
            active.merge(containerId, 1, Integer::sum);
        } finally {
            lock.unlock();
        }
    }

    /** The container's tailer ended: its share is guaranteed only while it has segments. */
    public void unregister(String containerId) {
        lock.lock();
        try {
            active.computeIfPresent(containerId, (k, n) -> n <= 1 ? null : n - 1);
        } finally {
            lock.unlock();
        }
    }

    /** The share of {@code spool.max_bytes} each container the spool knows is guaranteed now. */
    public long share() {
        lock.lock();
        try {
            return maxBytes / Math.max(1, known(null).size());
        } finally {
            lock.unlock();
        }
    }

    /** Guarded by the lock: the containers that share the spool (with segments or copies in progress, registered, and {@code also}). */
    private Set<String> known(String also) {
        Set<String> out = new HashSet<>(parts.keySet());
        out.addAll(active.keySet());
        if (also != null) {
            out.add(also);
        }
        return out;
    }

    /**
     * Guarded by the lock: what the other containers have not used of their guaranteed shares
     * ({@code max(0, share - occupied)} each): the room {@code containerId} may take now is what
     * is free once this is set aside.
     */
    private long keptForOthers(String containerId) {
        Set<String> known = known(containerId);
        long share = maxBytes / known.size();
        long kept = 0;
        for (String id : known) {
            if (!id.equals(containerId)) {
                Part p = parts.get(id);
                kept += Math.max(0, share - (p == null ? 0 : p.occupied));
            }
        }
        return kept;
    }

    /**
     * Copies the bytes {@code [start, end)} of {@code from} (the log file {@code fileId} of
     * {@code container}, read with positional reads) into a new segment, synced before it returns.
     * Beyond the room the container may take ({@link #keptForOthers}: its fair share of
     * {@code spool.max_bytes}, and what nobody else is guaranteed) it keeps the longest prefix that
     * ends after a newline and reports the rest lost; beyond
     * {@code spool.max_segments_per_container} it keeps nothing and reports it all lost. Returns
     * what it kept (null segment: nothing).
     *
     * @throws IOException the spool volume failed: nothing new is in the spool, the old contents are intact
     */
    public Written write(ContainerInfo container, String fileId, long firstTime, FileChannel from, long start, long end)
            throws IOException {
        if (end <= start) {
            return new Written(null, start);
        }
        String cid = container.id();
        byte[] description = describe(container);
        long headerMax = header(cid, fileId, start, end, firstTime).length;   // keep <= end: its header is no longer
        // the room is reserved and the segment numbered under the lock; the copy and its syncs run outside it, so that a
        // slow volume never holds up a delete (the rotation watch) or a tailer's listing
        long keep = end;
        long seq;
        long meta;
        long reserved;
        lock.lock();
        try {
            Part p = parts.get(cid);
            int segs = p == null ? 0 : p.segments.size() + p.writing;
            if (segs >= maxSegments) {
                reportLost(container, fileId, start, end, "segment_limit", "the container has " + segs + " segments in the spool"
                        + " (spool.max_segments_per_container " + maxSegments + ")");
                return new Written(null, start);
            }
            meta = p == null ? BLOCK + blocks(description.length) : 0;
            long others = keptForOthers(cid);
            long room = maxBytes - bytes.get() - others - meta;
            if (blocks(headerMax + end - start) > room) {
                long fits = room / BLOCK * BLOCK - headerMax;
                keep = fits <= 0 ? start : lastLineEnd(from, start, start + Math.min(fits, end - start));
                long mine = p == null ? 0 : p.occupied;
                Set<String> known = known(cid);
                boolean full = others == 0;       // else the room left is the others' guaranteed room
                reportLost(container, fileId, keep, end, "spool_limit", (full ? "the spool is full" : "its share of the spool is used")
                        + " (spool.max_bytes " + maxBytes + ", " + bytes.get() + " bytes spooled)", "; the container holds " + mine
                        + " bytes of the spool, its guaranteed share is " + maxBytes / known.size() + " of " + known.size()
                        + " container(s), and what the others have not used of theirs is kept for them");
            }
            if (keep <= start) {
                return new Written(null, start);
            }
            reserved = meta + blocks(headerMax + keep - start);
            if (p == null) {
                p = new Part();
                parts.put(cid, p);
            }
            p.meta += meta;
            p.occupied += reserved;
            p.writing++;
            bytes.addAndGet(reserved);
            seq = lastSeq.merge(cid, 1L, Long::sum);
        } finally {
            lock.unlock();
        }
        Path cdir = dir.resolve(cid);
        Path target = cdir.resolve(String.format("%08d", seq) + SUFFIX);
        Path temp = cdir.resolve(String.format("%08d", seq) + SUFFIX + ".tmp");
        Segment in = null;
        try {
            if (!Files.isDirectory(cdir)) {
                if (!Files.isDirectory(dir)) {
                    Files.createDirectories(dir, OWNER_ONLY_DIR);
                }
                Files.createDirectories(cdir, OWNER_ONLY_DIR);
                syncDir(dir);
            }
            writeContainer(cdir, description);
            byte[] header = header(cid, fileId, start, keep, firstTime);
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
            in = new Segment(target, cid, seq, fileId, start, keep, firstTime, header.length);
            metrics.counter(Metric.SPOOLED_BYTES).add(in.length());
            // this copy is in; the spool stays degraded while another copy that failed is still wanted
            settled(cid, fileId);
            return new Written(in, keep);
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
            failing.put(cid + "/" + fileId, problem);
            log.error("spool {}: writing bytes {}-{} of the log file {} of {} failed: {}; the spool's contents are intact,"
                    + " shipping goes on from the files still open", dir, start, keep, fileId, container.describe(), e.toString());
            throw e;
        } finally {
            lock.lock();
            try {
                Part p = parts.get(cid);
                p.writing--;
                p.occupied -= reserved - meta;      // the reservation goes; the segment's real blocks come in its place
                bytes.addAndGet(-(reserved - meta));
                if (in != null) {
                    p.segments.put(seq, in);
                    p.occupied += in.occupied();
                    bytes.addAndGet(in.occupied());
                    files.incrementAndGet();
                } else if (p.idle()) {
                    removeDirectory(cid, p);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Guarded by the lock: counts and reports the bytes {@code [from, to)} that cannot be kept, the container's own loss. */
    private void reportLost(ContainerInfo container, String fileId, long from, long to, String reason, String why, String... more) {
        if (to <= from) {
            return;
        }
        metrics.counter(Metric.SPOOL_LOST_BYTES, "reason", reason).add(to - from);
        metrics.counter(Metric.LOG_LOSSES, "container", container.name()).increment();
        log.warn("LOST: {}: {}; bytes {}-{} of the log file {} could not be kept after their source went away: they are lost"
                + " ({} bytes){}", container.describe(), why, from, to, fileId, to - from, String.join("", more));
    }

    /**
     * A copy of the log file {@code fileId} that failed is no longer wanted (its bytes were
     * acknowledged, or its tailer ended): it no longer keeps {@link #problem} set.
     */
    public void settled(String containerId, String fileId) {
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
        Map<String, ContainerInfo> out = new TreeMap<>();
        for (String id : containerIdsWithSegments()) {
            try {
                ContainerInfo c = readContainer(dir.resolve(id).resolve(DESCRIPTION));
                if (!c.id().equals(id)) {
                    log.error("spool {}: the container description in {} names the container {}; its spooled bytes are not shipped",
                            dir, id, c.id());
                    continue;
                }
                out.put(id, c);
            } catch (IOException | RuntimeException e) {
                log.error("spool {}: the container description of {} is unreadable ({}); its spooled bytes cannot be shipped",
                        dir, id, e.getMessage());
            }
        }
        return out;
    }

    /** A container's segments in the order they were written (from the index: no listing, no header read). */
    public List<Segment> segments(String containerId) {
        lock.lock();
        try {
            Part p = parts.get(containerId);
            return p == null ? new ArrayList<>() : new ArrayList<>(p.segments.values());
        } finally {
            lock.unlock();
        }
    }

    /** Everything in the segment is acknowledged: it goes (and its container's directory with its last segment). O(log n). */
    public void delete(Segment s) {
        lock.lock();
        try {
            Part p = parts.get(s.containerId());
            if (p == null || !s.equals(p.segments.get(s.seq()))) {
                return;                      // deleted already
            }
            try {
                Files.deleteIfExists(s.path());
            } catch (IOException e) {
                log.warn("spool {}: cannot delete the acknowledged segment {} ({})", dir, s.path(), e.getMessage());
                return;
            }
            p.segments.remove(s.seq());
            p.occupied -= s.occupied();
            bytes.addAndGet(-s.occupied());
            files.decrementAndGet();
            log.debug("spool: {} acknowledged, deleted", s.path());
            if (p.idle()) {
                removeDirectory(s.containerId(), p);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Guarded by the lock: the container has nothing left here: its description and directory go, and their blocks. */
    private void removeDirectory(String containerId, Part p) {
        parts.remove(containerId);
        bytes.addAndGet(-p.occupied);
        Path cdir = dir.resolve(containerId);
        try {
            Files.deleteIfExists(cdir.resolve(DESCRIPTION));
            Files.deleteIfExists(cdir);
            lastSeq.remove(containerId);     // numbers start again with the directory
        } catch (IOException e) {
            log.debug("spool {}: {} not removed ({})", dir, cdir, e.getMessage());
        }
    }

    /** Every container with at least one segment (its description readable or not). */
    public Set<String> containerIdsWithSegments() {
        lock.lock();
        try {
            Set<String> out = new TreeSet<>();
            parts.forEach((id, p) -> {
                if (!p.segments.isEmpty()) {
                    out.add(id);
                }
            });
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
            if (segs.isEmpty()) {
                return;
            }
            long lost = segs.stream().mapToLong(Segment::length).sum();
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
            segments(containerId).forEach(this::delete);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads the spool directory into the index, sweeping (and counting, and logging) what the
     * agent cannot use; returns how many files it swept.
     */
    private long open() {
        Map<String, Long> sweptBy = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<Path> entries = list(dir);
        for (Path p : entries) {
            String name = p.getFileName().toString();
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                if (CONTAINER_ID.matcher(name).matches()) {
                    openContainer(name, sweptBy);
                } else {
                    log.warn("spool {}: the directory {} is not the agent's (not a container id): left in place, not counted in"
                            + " spool.max_bytes", dir, name);
                }
            } else {
                sweep(p, "unknown", "a file the agent did not write", sweptBy);
            }
        }
        long n = 0;
        for (Map.Entry<String, Long> e : sweptBy.entrySet()) {
            metrics.counter(Metric.SPOOL_SWEPT_FILES, "reason", e.getKey()).add(e.getValue());
            n += e.getValue();
        }
        if (n > 0) {
            log.warn("spool {}: {} file(s) the agent cannot use swept at start {}", dir, n, sweptBy);
        }
        return n;
    }

    private void openContainer(String id, Map<String, Long> sweptBy) {
        Path cdir = dir.resolve(id);
        Part part = new Part();
        long last = 0;
        for (Path p : list(cdir)) {
            String name = p.getFileName().toString();
            if (name.equals(DESCRIPTION)) {
                continue;
            }
            if (name.endsWith(SUFFIX + ".tmp") || name.equals(DESCRIPTION + ".tmp")) {
                // a crash during a write: what it held was never acknowledged as spooled, so its file was still held (or
                // reported lost) at the time
                sweep(p, "temporary", "half-written by a crash", sweptBy);
            } else if (SEGMENT_NAME.matcher(name).matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Segment s = readSegment(id, p);
                    part.segments.put(s.seq(), s);
                    last = Math.max(last, s.seq());
                } catch (OtherVersion e) {
                    metrics.counter(Metric.SPOOL_LOST_BYTES, "reason", "not_shipped").add(e.bytes);
                    log.warn("LOST: container {}: the spooled segment {} ({} bytes) is of {}, which this agent cannot read: it is"
                            + " not shipped and is deleted from the spool", id.substring(0, 12), name, e.bytes, e.getMessage());
                    sweep(p, "other_version", null, sweptBy);
                } catch (IOException | RuntimeException e) {
                    long size = size(p);
                    metrics.counter(Metric.SPOOL_LOST_BYTES, "reason", "not_shipped").add(size);
                    log.warn("LOST: container {}: the spooled segment {} ({} bytes) is unreadable ({}): it is not shipped and is"
                            + " deleted from the spool", id.substring(0, 12), name, size, e.getMessage());
                    sweep(p, "unreadable", null, sweptBy);
                }
            } else {
                sweep(p, "unknown", "a file the agent did not write", sweptBy);
            }
        }
        if (part.segments.isEmpty()) {
            try {
                Files.deleteIfExists(cdir.resolve(DESCRIPTION));
                Files.deleteIfExists(cdir);
            } catch (IOException e) {
                log.warn("spool {}: {} has no segment and cannot be removed ({})", dir, id, e.toString());
            }
            return;
        }
        Path desc = cdir.resolve(DESCRIPTION);
        part.meta = BLOCK + (Files.exists(desc) ? blocks(size(desc)) : 0);
        part.occupied = part.meta + part.segments.values().stream().mapToLong(Segment::occupied).sum();
        parts.put(id, part);
        lastSeq.put(id, last);
        bytes.addAndGet(part.occupied);
        files.addAndGet(part.segments.size());
    }

    /** Deletes a file (or an empty directory) found at start that the agent cannot use, counted under {@code reason}. */
    private void sweep(Path p, String reason, String why, Map<String, Long> sweptBy) {
        try {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                log.warn("spool {}: {} is not the agent's: left in place", dir, dir.relativize(p));
                return;
            }
            if (why != null) {
                log.warn("spool {}: {} ({} bytes): {}; deleted", dir, dir.relativize(p), size(p), why);
            }
            if (Files.deleteIfExists(p)) {
                sweptBy.merge(reason, 1L, Long::sum);
            }
        } catch (IOException e) {
            log.error("spool {}: cannot remove {} ({})", dir, p, e.getMessage());
        }
    }

    private List<Path> list(Path d) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            ds.forEach(out::add);
        } catch (IOException e) {
            log.error("spool {}: cannot list {} ({})", dir, d, e.getMessage());
        }
        return out;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static byte[] header(String containerId, String fileId, long base, long end, long firstTime) throws IOException {
        ObjectNode h = MAPPER.createObjectNode();
        h.put("container", containerId);
        h.put("file", fileId);
        h.put("base", base);
        h.put("end", end);
        h.put("time", firstTime);
        return (MAGIC + MAPPER.writeValueAsString(h) + "\n").getBytes(StandardCharsets.UTF_8);
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
            if (!line.startsWith(MAGIC) && line.startsWith(MAGIC_FAMILY)) {
                int sp = line.indexOf(' ');
                throw new OtherVersion(sp > 0 ? line.substring(0, sp) : MAGIC_FAMILY + "?", ch.size() - nl - 1);
            }
            if (nl < 0 || !line.startsWith(MAGIC)) {
                throw new IOException("no spool header");
            }
            JsonNode h = MAPPER.readTree(line.substring(MAGIC.length()));
            if (h.has("container") && !h.get("container").asText().equals(containerId)) {
                throw new IOException("its header names the container " + h.get("container").asText() + ", not its directory's");
            }
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

    /** The container's description as {@code container.json} holds it. */
    private static byte[] describe(ContainerInfo c) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("name", c.name());
        m.put("image", c.imageName());
        m.put("labels", new TreeMap<>(c.labels()));
        m.put("log_path", c.logPath());
        m.put("log_driver", c.logDriver());
        return MAPPER.writeValueAsBytes(m);
    }

    private static void writeContainer(Path cdir, byte[] description) throws IOException {
        Path p = cdir.resolve(DESCRIPTION);
        if (Files.exists(p)) {
            return;
        }
        Path temp = cdir.resolve(DESCRIPTION + ".tmp");
        try (FileChannel out = FileChannel.open(temp, OWNER_ONLY_WRITE, OWNER_ONLY)) {
            writeFully(out, ByteBuffer.wrap(description));
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
