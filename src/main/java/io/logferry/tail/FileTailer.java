package io.logferry.tail;

import io.logferry.decode.DockerEntry;
import io.logferry.decode.DockerJsonDecoder;
import io.logferry.decode.Encoder;
import io.logferry.decode.MessageAssembler;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.StartPosition;
import io.logferry.pipeline.EventQueue;
import io.logferry.registry.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads one container's json-file log from where the registry says it was acknowledged, follows
 * rotation (it finishes the renamed file before it moves to the next one, and reads rotated files
 * it missed, oldest first), and after the container stops reads to the end of the file it holds
 * open, then ends. Runs on its own (virtual) thread and owns all of its state.
 *
 * <p>Files are identified by a fingerprint of their first line, whose nanosecond timestamp makes
 * it unique; while a file is open, its inode names it.
 *
 * <p>Memory: the 256 KiB read buffer is allocated only when the open file has bytes to read, and
 * given back after 5 s without any (only an unterminated line is kept). An idle tailer, or one of
 * a created-but-never-started container, costs about 10 KiB with its document builder and
 * acknowledgement tracker (measured: 2,000 constructed tailers, 9.7 KB each; 278 KB each when
 * the buffer was allocated at construction); a reading one adds its buffer (up to 16 MiB for a
 * line that long) and what the {@link MessageAssembler} holds (at most 4 × {@code max_bytes}).
 * Rotated files held open beyond the one being read are bounded by {@link HeldFiles}; a file
 * truncated in place is read again from offset 0.
 */
public final class FileTailer implements Tailer {
    private static final Logger log = LoggerFactory.getLogger(FileTailer.class);
    private static final int INITIAL_BUFFER = 256 * 1024;
    private static final byte[] NO_BUFFER = new byte[0];
    /** A tailer with nothing to read for this long gives its read buffer back. */
    static final long IDLE_RELEASE_NANOS = 5_000_000_000L;
    private static final int MAX_LINE = 16 * 1024 * 1024;
    private static final long STOP_GRACE_NANOS = 1_000_000_000L;
    private static final long MISSING_FILE_GRACE_NANOS = 5_000_000_000L;
    private static final long DISCOVERY_NANOS = 50_000_000L;

    private volatile ContainerInfo container;
    private final ContainerSettings settings;
    private final Path dir;
    private final Path current;
    private final Registry.Entry resume;
    private final AckTracker tracker;
    private final Done done;
    private final LogPrefetcher prefetcher;
    private final MessageAssembler assembler;
    private final Publisher publisher;
    private final LongAdder malformed;
    private final LongAdder lost;
    private final LongAdder truncations;
    private final LongAdder lostBytes;
    private final HeldFiles held;

    private record Upcoming(FileChannel channel, Object key, String fileId, Path seenAs) { }

    private volatile boolean stopped;
    private volatile long stoppedAt;
    private volatile boolean removed;
    private volatile boolean shutdown;

    private FileChannel channel;
    private Object fileKey;
    /** Files newer than the one being read, opened as soon as seen so that rotation cannot delete them unread. */
    private final java.util.concurrent.ConcurrentLinkedDeque<Upcoming> upcoming = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** Every file of the chain already accounted for (read, being read, upcoming, or before the start): inode → fingerprint. */
    private final Map<Object, String> known = new HashMap<>();
    private Object newestKey;
    private long lastDiscovery;
    /** Where reading has got to in the open file, for {@link #behind()} from other threads. */
    private volatile long readPos;
    private String fileId;
    private long fileSeq;
    /** The read buffer: allocated when there is something to read, released after {@link #IDLE_RELEASE_NANOS} idle. */
    private byte[] buf = NO_BUFFER;
    private long lastReadNanos = System.nanoTime();
    private volatile long idleReleaseNanos = IDLE_RELEASE_NANOS;
    private long bufStart;
    private int fill;
    private boolean skippingLongLine;
    private long malformedLogged;

    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher) {
        this(container, settings, containersPath, resume, tracker, queue, builder, metrics, done, prefetcher, HeldFiles.unbounded());
    }

    /** @param held the agent's account of held rotated files, shared by all file tailers */
    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher, HeldFiles held) {
        this.held = held;
        this.prefetcher = prefetcher;
        this.container = container;
        this.settings = settings;
        this.dir = containersPath.resolve(container.id());
        this.current = dir.resolve(container.id() + "-json.log");
        this.resume = resume;
        this.tracker = tracker;
        this.done = done;
        this.malformed = metrics.counter(Metric.LINES_MALFORMED);
        this.lost = metrics.counter(Metric.LOG_LOSSES, "container", container.name());
        this.lostBytes = metrics.counter(Metric.LOG_LOST_BYTES, "container", container.name());
        this.truncations = metrics.counter(Metric.TRUNCATIONS, "container", container.name());
        this.publisher = new Publisher(tracker, queue, builder, metrics, true);
        this.assembler = new MessageAssembler(settings, publisher);
        if (!container.running()) {
            markStopped();
        }
    }

    @Override
    public ContainerInfo container() {
        return container;
    }

    @Override
    public AckTracker tracker() {
        return tracker;
    }

    @Override
    public String source() {
        return current.toString();
    }

    /** The container was renamed: documents from now on carry the new name. */
    @Override
    public void rename(ContainerInfo renamed, Encoder newBuilder) {
        container = renamed;
        publisher.builder(newBuilder);
    }

    /** The container died: read to the end, then finish. */
    @Override
    public void markStopped() {
        stoppedAt = System.nanoTime();
        stopped = true;
    }

    /** The container started again before the tailer finished: keep following. */
    @Override
    public void markRunning() {
        stopped = false;
    }

    @Override
    public void markRemoved() {
        removed = true;
        markStopped();
    }

    public boolean removed() {
        return removed;
    }

    /** The agent stops: leave at once; what is not acknowledged is read again at the next start. */
    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public void run() {
        Thread.currentThread().setName("tail-" + container.shortId());
        try {
            if (open()) {
                RotationWatch.INSTANCE.add(this);
                follow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            log.error("tailer of {} failed at {}:{}; the supervisor starts it again from its last committed position",
                    container.describe(), current, bufStart + fill, e);
            done.failed(this, e);
        } finally {
            RotationWatch.INSTANCE.remove(this);
            closeChannel();
            for (Upcoming u : upcoming) {
                try {
                    u.channel().close();
                } catch (IOException ignored) {
                    // closing a read-only file
                }
            }
            upcoming.clear();
            held.update(this, 0);
            done.finished(this);
        }
    }

    /** Opens the file to start from: the registry's file at its offset, else per start_position. */
    private boolean open() throws IOException, InterruptedException {
        LogPrefetcher.Held early = prefetcher == null ? null : prefetcher.take(container.id());
        if (early != null) {
            if (resume == null && settings.startPosition() == StartPosition.BEGINNING) {
                // the container's first file, opened the moment Docker created it: read it from the start
                synchronized (this) {
                    channel = early.channel();
                    fileKey = early.key();
                    fileId = null;
                    fileSeq++;
                    bufStart = 0;
                    fill = 0;
                    readPos = 0;
                    newestKey = fileKey;
                }
                discover();
                return true;
            }
            early.channel().close();
        }
        long waitedSince = System.nanoTime();
        while (!Files.exists(current) && rotatedOldestFirst().isEmpty()) {
            if (shutdown || (stopped && System.nanoTime() - waitedSince > STOP_GRACE_NANOS)
                    || System.nanoTime() - waitedSince > MISSING_FILE_GRACE_NANOS && stopped) {
                log.info("no json-file log for {} at {}; nothing to read", container.describe(), current);
                return false;
            }
            // a container that prints and exits at once (--rm) leaves little time: look often at first
            Thread.sleep(System.nanoTime() - waitedSince < 2_000_000_000L ? 2 : 50);
        }
        List<Path> chain = chain();
        if (resume != null) {
            for (Path p : chain) {
                if (resume.fileId().equals(fingerprint(p))) {
                    openAt(p, resume.offset(), resume.fileId());
                    startChain(chain, p);
                    log.info("{}: resuming {} at offset {}", container.describe(), p.getFileName(), resume.offset());
                    return true;
                }
            }
            lost.increment();
            log.warn("LOST: {}: the log file {} (acknowledged up to offset {}) was rotated away and deleted while the agent was not reading it;"
                    + " its bytes after that offset, and any file rotated between it and {}, are lost", container.describe(),
                    resume.fileId(), resume.offset(), chain.isEmpty() ? current.getFileName() : chain.get(0).getFileName());
            openAt(chain.get(0), 0, null);
            startChain(chain, chain.get(0));
            return true;
        }
        if (settings.startPosition() == StartPosition.END && Files.exists(current)) {
            long end = lastLineEnd(current);
            openAt(current, end, end == 0 ? null : fingerprint(current));
            startChain(chain, current);
            return true;
        }
        int maxFiles = maxFiles();
        if (maxFiles > 1 && chain.size() >= maxFiles) {
            // every slot of the rotation is used: the container's first lines may be gone already
            lost.increment();
            log.warn("LOST: {}: when the agent first opened its logs, Docker had already rotated through all {} files"
                    + " (max-file); lines written before {} may have been deleted unread", container.describe(), maxFiles,
                    chain.get(0).getFileName());
        }
        openAt(chain.get(0), 0, null);
        startChain(chain, chain.get(0));
        return true;
    }

    /** The container's {@code max-file} log option from Docker's hostconfig.json beside the log; 0 when unknown. */
    private int maxFiles() {
        try {
            com.fasterxml.jackson.databind.JsonNode cfg = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(dir.resolve("hostconfig.json").toFile()).path("LogConfig").path("Config");
            return cfg.hasNonNull("max-file") ? Integer.parseInt(cfg.get("max-file").asText()) : 1;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Marks the files older than the starting one as accounted for, and opens the newer ones. */
    private void startChain(List<Path> chain, Path start) throws IOException {
        for (Path p : chain) {
            if (p.equals(start)) {
                break;
            }
            Object key = key(p);
            String fp = fingerprint(p);
            if (key != null && fp != null) {
                known.put(key, fp);
            }
        }
        discover();
    }

    private static Object key(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Lists the container's log files and opens, oldest first, every one not yet accounted for:
     * any such file is newer than those known. Holding them open means Docker's rotation can
     * rename and delete them without losing a byte, as long as this runs more often than Docker
     * cycles through all {@code max-file} files. When even the newest known file is gone, files
     * may have come and gone unseen: that is reported as a loss.
     */
    private synchronized void discover() throws IOException {
        lastDiscovery = System.nanoTime();
        List<Path> chain = chain();
        java.util.Set<Object> present = new java.util.HashSet<>();
        List<Upcoming> found = new ArrayList<>();
        for (Path p : chain) {
            // identity and first line from one open file: a path can be renamed between two calls
            Opened o = openStable(p);
            if (o == null) {
                continue;
            }
            Object key = o.key();
            // always read the first line again: Docker reuses the inode numbers of deleted files
            String fp = known.get(key);
            String now = fingerprint(o.channel());
            boolean keep = false;
            try {
                if (now == null) {
                    continue;                // no complete first line yet: not a file to read yet
                }
                if (fp != null && fp.equals(now)) {
                    present.add(key);
                    continue;
                }
                if (key.equals(fileKey)) {
                    known.put(key, now);
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
        if (newestKey != null && !present.contains(newestKey) && !found.isEmpty()) {
            lost.increment();
            log.warn("LOST: {}: Docker rotated every log file known to the agent away within one check; files written in between"
                    + " may have been deleted unread (the agent is behind the container's write rate)", container.describe());
        }
        for (Upcoming u : found) {
            upcoming.addLast(u);
            known.put(u.key(), u.fileId());
            newestKey = u.key();
        }
        // forget what Docker deleted, except what is still held open
        known.keySet().removeIf(k -> !present.contains(k) && !k.equals(fileKey) && upcoming.stream().noneMatch(u -> u.key().equals(k)));
        boundHeld();
    }

    /**
     * Holds at most {@code limits.held_files_per_container} files beyond the one being read, and
     * together with all other tailers at most {@code limits.held_bytes_total} unread bytes in
     * them: beyond either, the oldest held file is closed unread and its bytes reported as lost
     * ({@code LOST:}, {@code logferry_log_losses_total}, {@code logferry_log_lost_bytes_total}).
     * The newest file is always kept: it is where the container writes. A released file stays
     * known by its fingerprint, so it is not opened again while Docker keeps it.
     */
    private synchronized void boundHeld() {
        long bytes = 0;
        for (Upcoming u : upcoming) {
            bytes += size(u.channel());
        }
        held.update(this, bytes);
        while (upcoming.size() > 1 && held.over(upcoming.size())) {
            Upcoming u = upcoming.pollFirst();
            long size = size(u.channel());
            try {
                u.channel().close();
            } catch (IOException ignored) {
                // closing a read-only file
            }
            bytes -= size;
            long total = held.update(this, Math.max(bytes, 0));
            lost.increment();
            lostBytes.add(size);
            log.warn("LOST: {}: a rotated log file (fingerprint {}, first seen as {}) was held open unread while the tailer was"
                    + " behind; released to stay within limits.held_files_per_container ({}, {} held) and limits.held_bytes_total"
                    + " ({}, {} held by all containers): its bytes 0-{} are lost", container.describe(), u.fileId(), u.seenAs().getFileName(),
                    held.filesPerContainer(), upcoming.size() + 1, held.bytesTotal(), total + size, size);
        }
    }

    /** Files held open beyond the one being read. */
    int heldFileCount() {
        return upcoming.size();
    }

    private static long size(FileChannel ch) {
        try {
            return ch.size();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * {@link #discover()}, but only when the log path no longer names the newest file held: Docker
     * rotates by renaming {@code -json.log} and creating a new one, so while the path still names
     * the newest open file no newer file can exist. One {@code stat} instead of opening and
     * fingerprinting every file of the chain: this runs at every idle poll and rotation check.
     * (An open file's inode cannot be reused, so an equal key is the same file.)
     */
    private synchronized void discoverIfRotated() throws IOException {
        Upcoming last = upcoming.peekLast();
        Object newest = last != null ? last.key() : fileKey;
        if (newest != null && newest.equals(key(current))) {
            lastDiscovery = System.nanoTime();
            return;
        }
        discover();
    }

    private synchronized void openAt(Path p, long offset, String id) throws IOException {
        closeChannel();
        Opened o = openStable(p);
        if (o == null) {
            throw new NoSuchFileException(p.toString(), null, "rotated away while being opened");
        }
        channel = o.channel();
        fileKey = o.key();
        fileId = id;
        readPos = offset;
        fileSeq++;
        bufStart = offset;
        fill = 0;
        skippingLongLine = false;
        if (id == null && offset > 0) {
            fileId = fingerprint(p);
        }
        String fp = fileId != null ? fileId : fingerprint(p);
        if (fp != null) {
            known.put(fileKey, fp);
        }
        newestKey = fileKey;
    }

    @Override
    public long behind() {
        FileChannel ch = channel;
        long pos = readPos;
        long total = 0;
        try {
            if (ch != null) {
                total += Math.max(0, ch.size() - pos);
            }
            for (Upcoming u : upcoming.toArray(Upcoming[]::new)) {
                total += u.channel().size();
            }
        } catch (IOException e) {
            return -1;
        }
        return total;
    }

    /**
     * Called by the {@link RotationWatch} thread: keeps hold of new files even while this tailer
     * is blocked on a full queue, which is exactly when Docker may rotate faster than it reads.
     */
    void watch() {
        if (channel == null || shutdown) {
            return;
        }
        try {
            discoverIfRotated();
            boundHeld();
        } catch (IOException | RuntimeException e) {
            log.debug("{}: rotation check failed: {}", container.describe(), e.getMessage());
        }
    }

    /** Continues with a file that {@link #discover()} opened earlier, from its start. */
    private synchronized void switchTo(Upcoming u) {
        closeChannel();
        readPos = 0;
        channel = u.channel();
        fileKey = u.key();
        fileId = u.fileId();
        fileSeq++;
        bufStart = 0;
        fill = 0;
        skippingLongLine = false;
    }

    private void follow() throws IOException, InterruptedException {
        long idleSleep = 10;
        while (!shutdown) {
            int n = readSome();
            if (n > 0) {
                idleSleep = 10;
                continue;
            }
            if (truncatedInPlace()) {
                continue;
            }
            assembler.flushIdle(System.nanoTime());
            publisher.flush();
            if (moveToNextFile()) {
                continue;
            }
            if (stopped && System.nanoTime() - stoppedAt > STOP_GRACE_NANOS) {
                if (readSome() > 0) {
                    continue;
                }
                assembler.flushAll();
                publisher.flush();
                log.info("{}: read to the end of its log at offset {}; tailer done", container.describe(), bufStart + fill);
                return;
            }
            releaseBufferIfIdle(System.nanoTime());
            Thread.sleep(idleSleep);
            idleSleep = Math.min(idleSleep * 2, 250);
        }
    }

    /**
     * A file whose size fell below the offset read so far was truncated in place (Docker never
     * does this; {@code truncate -s 0} on a live log does): it is still the file held open, so it
     * is read again from offset 0, logged and counted. What the assembler held belonged to the old
     * content and is sent as it is. The first line after the truncation gives the file a new
     * fingerprint (its timestamp differs), so its documents get new {@code _id}s, never those of
     * the old content; a file truncated to a size above 0 keeps its first line, fingerprint and
     * ids, and the bytes read again are refused as duplicates (409). A truncation followed by more
     * writes than had been read, between two checks, is not seen (the size never falls below).
     */
    private boolean truncatedInPlace() throws IOException, InterruptedException {
        long size = channel.size();
        long at = bufStart + fill;
        if (size >= at) {
            return false;
        }
        truncations.increment();
        log.warn("{}: its log file {} was truncated in place to {} bytes while the agent had read it to offset {};"
                + " reading it again from offset 0", container.describe(), current.getFileName(), size, at);
        assembler.flushAll();
        publisher.flush();
        synchronized (this) {
            fileSeq++;
            fileId = null;
            bufStart = 0;
            fill = 0;
            readPos = 0;
            skippingLongLine = false;
        }
        return true;
    }

    /**
     * After {@link #IDLE_RELEASE_NANOS} without a byte to read, the read buffer goes: only the
     * unterminated line it holds (usually nothing) is kept, so that quiet containers cost no buffer.
     */
    private void releaseBufferIfIdle(long now) {
        if (buf.length > fill && now - lastReadNanos > idleReleaseNanos) {
            buf = fill == 0 ? NO_BUFFER : java.util.Arrays.copyOf(buf, fill);
        }
    }

    /** Tests: how long an idle tailer keeps its read buffer. */
    void idleRelease(java.time.Duration d) {
        idleReleaseNanos = d.toNanos();
    }

    /** Bytes of read buffer this tailer holds now (0 while it has had nothing to read for a while). */
    int bufferBytes() {
        return buf.length;
    }

    /** Reads what is there and processes every complete line; returns the bytes read. */
    private int readSome() throws IOException, InterruptedException {
        int total = 0;
        while (!shutdown) {
            if (buf.length == 0) {
                if (channel.size() <= bufStart) {
                    return total;            // nothing to read: no buffer
                }
                buf = new byte[INITIAL_BUFFER];
            }
            if (fill == buf.length) {
                if (buf.length >= MAX_LINE) {
                    // a line longer than any Docker writes: skip to its end, counted as malformed
                    if (!skippingLongLine) {
                        reportMalformed(bufStart, "a line longer than " + MAX_LINE + " bytes");
                        if (fileId == null && bufStart == 0) {
                            fileId = fingerprint(buf, 0, fill);
                        }
                    }
                    skippingLongLine = true;
                    bufStart += fill;
                    fill = 0;
                } else {
                    buf = java.util.Arrays.copyOf(buf, Math.min(Math.max(buf.length * 2, INITIAL_BUFFER), MAX_LINE));
                }
            }
            if (System.nanoTime() - lastDiscovery > DISCOVERY_NANOS) {
                discoverIfRotated();         // while behind, keep hold of files before rotation deletes them
            }
            int n = channel.read(ByteBuffer.wrap(buf, fill, buf.length - fill), bufStart + fill);
            if (n <= 0) {
                return total;
            }
            total += n;
            lastReadNanos = System.nanoTime();
            int scanFrom = fill;
            fill += n;
            readPos = bufStart + fill;
            int lineStart = 0;
            for (int i = scanFrom; i < fill; i++) {
                if (buf[i] != '\n') {
                    continue;
                }
                if (skippingLongLine) {
                    skippingLongLine = false;
                    assembler.skip(new Cursor(fileSeq, fileId == null ? "unknown" : fileId, bufStart + i + 1));
                } else {
                    line(lineStart, i - lineStart, bufStart + lineStart, bufStart + i + 1);
                }
                lineStart = i + 1;
            }
            if (lineStart > 0) {
                System.arraycopy(buf, lineStart, buf, 0, fill - lineStart);
                fill -= lineStart;
                bufStart += lineStart;
            }
            publisher.flush();
        }
        return total;
    }

    private void line(int off, int len, long start, long end) throws InterruptedException {
        if (fileId == null) {
            fileId = start == 0 ? fingerprint(buf, off, len) : "unknown";
            known.put(fileKey, fileId);
        }
        try {
            DockerEntry e = DockerJsonDecoder.decode(buf, off, len, start, end, assembler.escapedLimit());
            assembler.accept(e, fileSeq, fileId);
        } catch (DockerJsonDecoder.MalformedLineException ex) {
            reportMalformed(start, ex.getMessage());
            assembler.skip(new Cursor(fileSeq, fileId, end));
        }
    }

    private void reportMalformed(long offset, String why) {
        malformed.increment();
        if (malformedLogged++ < 10 || malformedLogged % 1000 == 0) {
            log.warn("{}: skipped a malformed json-file line at {} offset {}: {} ({} so far)", container.describe(),
                    current.getFileName(), offset, why, malformedLogged);
        }
    }

    /**
     * When a newer file exists, Docker has finished with the open one (it renames, then writes to
     * a new file): read the open one to its end and continue with the next. Returns true when it moved.
     */
    private boolean moveToNextFile() throws IOException, InterruptedException {
        discoverIfRotated();
        if (upcoming.isEmpty()) {
            return false;
        }
        while (readSome() > 0) {
            // finish the renamed file
        }
        if (fill > 0) {
            // an unfinished line at the end of a rotated file never gets its newline
            reportMalformed(bufStart, "an incomplete last line in a rotated file");
        }
        Upcoming next;
        synchronized (this) {
            next = upcoming.pollFirst();
            boundHeld();
        }
        switchTo(next);
        log.debug("{}: rotation, now reading {}", container.describe(), next.seenAs().getFileName());
        return true;
    }

    /** The container's log files, oldest first: {@code -json.log.N} ... {@code -json.log.1}, then {@code -json.log}. */
    private List<Path> chain() {
        List<Path> out = rotatedOldestFirst();
        if (Files.exists(current)) {
            out.add(current);
        }
        return out;
    }

    private List<Path> rotatedOldestFirst() {
        List<Path> out = new ArrayList<>();
        for (int i = 1; i < 1000; i++) {
            Path p = dir.resolve(container.id() + "-json.log." + i);
            if (!Files.exists(p)) {
                break;
            }
            out.add(0, p);
        }
        return out;
    }

    /** The offset just after the file's last complete line (0 when it has none): where "end" starts. */
    static long lastLineEnd(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            for (long pos = size; pos > 0; ) {
                int n = (int) Math.min(b.capacity(), pos);
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
            return 0;
        }
    }

    /** An open file and the identity (inode) of that very file. */
    record Opened(FileChannel channel, Object key) { }

    /**
     * Opens a path and learns which file it opened: the path's identity before and after the open
     * must agree, else Docker renamed it in between and it is tried again. Null when it is gone.
     */
    static Opened openStable(Path p) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            Object before = key(p);
            if (before == null) {
                return null;
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(p, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                return null;
            }
            if (before.equals(key(p))) {
                return new Opened(ch, before);
            }
            ch.close();
        }
        return null;
    }

    /** The fingerprint of the file's first complete line, or null while it has none. */
    static String fingerprint(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return fingerprint(ch);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The same, read through an open file (positional reads; its position is not moved). */
    static String fingerprint(FileChannel ch) throws IOException {
        {
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                for (int i = 0; i < b.position(); i++) {
                    if (b.get(i) == '\n') {
                        return fingerprint(b.array(), 0, i);
                    }
                }
            }
            // no newline within the first 64 KiB: the first 4 KiB of a longer line identify it as well
            return b.position() < b.capacity() ? null : fingerprint(b.array(), 0, b.position());
        }
    }

    static String fingerprint(byte[] b, int off, int len) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(b, off, Math.min(len, 4096));
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a read-only file
            }
            channel = null;
        }
    }
}
