package io.logferry.tail;

import io.logferry.decode.Encoder;
import io.logferry.decode.JsonFileReader;
import io.logferry.decode.MessageAssembler;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.BufferBudget;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.StartPosition;
import io.logferry.pipeline.EventQueue;
import io.logferry.registry.InFlight;
import io.logferry.registry.Registry;
import io.logferry.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads one container's json-file log from where the registry says it was acknowledged, follows
 * rotation (it finishes the renamed file before it moves to the next one, and reads rotated files
 * it missed, oldest first), and after the container stops reads to the end of the file it holds
 * open, then ends.
 *
 * <p>Its parts, by job: {@link FileIdentity} names files (the fingerprint of the first line,
 * whose nanosecond timestamp makes it unique; while a file is open, its inode);
 * {@link RotationChain} finds and holds the files newer than the one being read, on the
 * {@link RotationWatch} thread, and hands them over through a queue; {@link JsonFileReader} turns
 * the open file's bytes into lines for the {@link MessageAssembler}; {@link Publisher} hands the
 * messages to the queue.
 *
 * <p>Threads: {@link #run} runs on the tailer's own (virtual) thread, which alone owns the
 * reader and the assembler; every file it opens is handed to its chain ({@code opened}), whose
 * watch thread closes it once its bytes are acknowledged or the tailer has ended (never under a
 * copy to the spool). The control loop's thread calls the {@code mark} methods and
 * {@link #rename} (volatile fields; the encoder is swapped in the {@link Publisher}); the metrics
 * thread calls {@link #behind}. No method holds a monitor.
 *
 * <p>Memory: the 256 KiB read buffer is allocated only when the open file has bytes to read, and
 * given back after 5 s without any (only an unterminated line is kept). An idle tailer, or one of
 * a created-but-never-started container, costs about 10 KiB with its document builder and
 * acknowledgement tracker (measured: 2,000 constructed tailers, 9.7 KB each; 278 KB each when
 * the buffer was allocated at construction); a reading one adds its buffer (up to 16 MiB for a
 * line that long) and what the {@link MessageAssembler} holds (at most 4 × {@code max_bytes}).
 * Rotated files held open beyond the one being read are bounded by {@link HeldFiles}; a file
 * truncated in place is read again from offset 0.
 *
 * <p>Spool: files read stay open (in the {@link RotationChain}) until their bytes are
 * acknowledged; their unacknowledged bytes go to the {@link Spool} when Docker deletes them or
 * the container is removed, and a tailer whose container's log (or part of it) is in the spool
 * starts there ({@link #openWithSpool}), reading segments in the original files' coordinates so
 * that cursors and {@code _id}s are those of the files. A tailer whose container stopped with
 * events not yet acknowledged waits (keeping its files) until they are, or until it is removed.
 */
public final class FileTailer implements Tailer {
    private static final Logger log = LoggerFactory.getLogger(FileTailer.class);
    /** A tailer with nothing to read for this long gives its read buffer back. */
    static final long IDLE_RELEASE_NANOS = 5_000_000_000L;
    private static final long STOP_GRACE_NANOS = 1_000_000_000L;
    /** How long a finishing tailer waits for the rotation watch to look once more. */
    private static final long LAST_CHECK_MILLIS = 1000;
    /** The longest wait for a log to grow: where inotify wakes the tailer, and where nothing does. */
    private static final long IDLE_WAIT_WATCHED_MS = 2000;
    private static final long IDLE_WAIT_MS = 250;
    /**
     * A watched tailer with nothing of its own to time (no held lines, no read buffer to give back,
     * not stopped) waits this long: only an event wakes it before (inotify's modify event, a stop, the
     * agent's shutdown). 100 idle containers cost 50 wakeups a second at 2 s, 3 at this.
     */
    static final long QUIET_WAIT_MS = 30_000;

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
    private final JsonFileReader reader;
    private final ReadLag readLag;
    private final RotationChain chain;
    private final Spool spool;
    private final LongAdder malformed;
    private final LongAdder lost;
    private final LongAdder lostBytes;
    private final LongAdder truncations;

    private volatile boolean stopped;
    private volatile long stoppedAt;
    private volatile boolean removed;
    private volatile boolean shutdown;

    private volatile JsonFileReader.Source source;
    private volatile long idleReleaseNanos = IDLE_RELEASE_NANOS;
    /** The tailer's thread once it follows its log: the mark methods and shutdown unpark it. */
    private volatile Thread follower;
    private long malformedLogged;
    /**
     * Where a queued file of the resume plan starts when not at 0 (by fingerprint): a registry
     * written by {@code logferry migrate filebeat} gives each file of the chain the offset its own
     * Filebeat harvester reached. The tailer's thread only.
     */
    private final java.util.Map<String, Long> queuedStarts = new java.util.HashMap<>();
    /** Its slot in the in-flight file, or null. */
    private InFlight.Slot inFlight;
    private final RotationWatch watch;

    /** The watch of the constructors without one (unit tests): one for the test JVM, never closed. */
    private static final class TestWatch {
        static final RotationWatch INSTANCE = new RotationWatch();
    }

    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher) {
        this(container, settings, containersPath, resume, tracker, queue, builder, metrics, done, prefetcher, HeldFiles.unbounded());
    }

    /** @param held the agent's account of held rotated files, shared by all file tailers */
    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher, HeldFiles held) {
        this(container, settings, containersPath, resume, tracker, queue, builder, metrics, done, prefetcher, held, null);
    }

    /** @param spool where unacknowledged bytes go when their file is about to be lost; null: nowhere (tests) */
    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher, HeldFiles held, Spool spool) {
        this(container, settings, containersPath, resume, tracker, queue, builder, metrics, done, prefetcher, held, spool,
                BufferBudget.unbounded());
    }

    /** @param budget {@code limits.buffers_max_bytes}: the agent's one budget for partial lines and multiline events */
    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher, HeldFiles held, Spool spool, BufferBudget budget) {
        this(container, settings, containersPath, resume, tracker, queue, builder, metrics, done, prefetcher, held, spool, budget,
                TestWatch.INSTANCE);
    }

    /** @param watch the agent's rotation watch, which checks this tailer's chain and runs its spool copies */
    public FileTailer(ContainerInfo container, ContainerSettings settings, Path containersPath, Registry.Entry resume,
                      AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done,
                      LogPrefetcher prefetcher, HeldFiles held, Spool spool, BufferBudget budget, RotationWatch watch) {
        this.watch = watch;
        this.prefetcher = prefetcher;
        this.spool = spool;
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
        this.readLag = new ReadLag(metrics.readLag());
        this.publisher = new Publisher(tracker, queue, builder, metrics, true, settings.weight(), RateLimit.of(settings.maxRate()));
        this.assembler = new MessageAssembler(settings, publisher, System::nanoTime, budget);
        this.reader = new JsonFileReader(assembler, new JsonFileReader.Listener() {
            @Override
            public String identify(byte[] line, int off, int len) {
                return FileIdentity.fingerprint(line, off, len);
            }

            @Override
            public void malformed(long offset, String why) {
                reportMalformed(offset, why);
            }

            @Override
            public void read(boolean atEnd) {
                publisher.behind(readLag.read(atEnd, System.currentTimeMillis()));
            }

            @Override
            public void entry(String dockerTime) {
                readLag.entry(dockerTime);
            }
        });
        this.chain = new RotationChain(dir, container.id(), () -> this.container, tracker::committed, held, spool, watch.spooler(),
                lost, lostBytes);
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
        wake();
    }

    /** The container started again before the tailer finished: keep following. */
    @Override
    public void markRunning() {
        stopped = false;
    }

    @Override
    public void markRemoved() {
        removed = true;
        chain.spoolAll();
        markStopped();
    }

    /** The agent stops: leave at once; what is not acknowledged is read again at the next start. */
    @Override
    public void shutdown() {
        shutdown = true;
        wake();
    }

    private void wake() {
        Thread t = follower;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Poison pills (before {@link #run}): each line is marked in {@code slot} while it is worked on;
     * {@code poison}, when not null, is the line this container's tailer was working on when the
     * agent last exited: it is dead-lettered as read when the reader comes to it.
     */
    @Override
    public void inFlight(InFlight.Slot slot, InFlight.Line poison) {
        inFlight = slot;
        if (slot != null) {
            reader.mark(slot);
            publisher.mark(slot);
        }
        if (poison != null) {
            reader.poison(poison.fileId(), poison.offset());
        }
    }

    @Override
    public void run() {
        Thread.currentThread().setName("tail-" + container.shortId());
        boolean fatal = true;
        if (spool != null) {
            spool.register(container.id());  // its fair share of the spool is kept for it while it runs
        }
        try {
            if (open()) {
                watch.add(chain);
                follow();
            }
            fatal = false;
        } catch (InterruptedException e) {
            fatal = false;
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            fatal = false;
            log.error("tailer of {} failed at {}:{}; the supervisor starts it again from its last committed position",
                    container.describe(), current, reader.position(), e);
            done.failed(this, e);
        } finally {
            if (inFlight != null && !fatal) {
                inFlight.release();     // after an Error its line stays marked: the process is ending on it
            }
            assembler.release();
            chain.close();                   // the chain closes every file the tailer opened, the one it reads too
            if (spool != null) {
                spool.unregister(container.id());
            }
            done.finished(this);
        }
    }

    /** Opens the file to start from: the registry's file at its offset, else per start_position. */
    private boolean open() throws IOException, InterruptedException {
        LogPrefetcher.Held early = prefetcher == null ? null : prefetcher.take(container.id());
        if (early != null) {
            if (resume == null && settings.startPosition() == StartPosition.BEGINNING) {
                // the container's first file, opened the moment Docker created it: read it from the start
                int maxFiles = maxFiles();
                if (maxFiles > 1 && early.firstLook() >= maxFiles) {
                    lost.increment();
                    log.warn("LOST: {}: when the agent first opened its logs, Docker had already rotated through all {} files"
                            + " (max-file); lines written before them may have been deleted unread", container.describe(), maxFiles);
                }
                if (early.gapCount() > 0) {
                    lost.increment();
                    log.warn("LOST: {}: Docker rotated the log faster than the agent could open its files before the container"
                            + " was discovered ({} time(s)); files written in between may have been deleted unread",
                            container.describe(), early.gapCount());
                }
                use(early.channel(), null, null, 0, early.key());
                chain.startEarly(early.key(), newerOf(early));
                return true;
            }
            early.channel().close();
            newerOf(early).forEach(u -> closeQuietly(u.channel()));
        }
        List<Spool.Segment> spooled = spool == null ? List.of() : spool.segments(container.id());
        if (spooled.isEmpty()) {
            long waitedSince = System.nanoTime();
            while (!Files.exists(current) && chain.rotatedOldestFirst().isEmpty()) {
                if (shutdown || (stopped && System.nanoTime() - waitedSince > STOP_GRACE_NANOS)) {
                    log.info("no json-file log for {} at {}; nothing to read", container.describe(), current);
                    return false;
                }
                // a container that prints and exits at once (--rm) leaves little time: look often at first
                Thread.sleep(System.nanoTime() - waitedSince < 2_000_000_000L ? 2 : 50);
            }
        }
        if (resume != null || !spooled.isEmpty()) {
            return openPlanned(spooled);
        }
        List<Path> files = chain.files();
        if (settings.startPosition() == StartPosition.END && Files.exists(current)) {
            long end = lastLineEnd(current);
            List<Path> older = new ArrayList<>(files);
            older.remove(current);
            openAt(current, older, end, end == 0 ? null : FileIdentity.fingerprint(current));
            return true;
        }
        int maxFiles = maxFiles();
        if (maxFiles > 1 && files.size() >= maxFiles) {
            // every slot of the rotation is used: the container's first lines may be gone already
            lost.increment();
            log.warn("LOST: {}: when the agent first opened its logs, Docker had already rotated through all {} files"
                    + " (max-file); lines written before {} may have been deleted unread", container.describe(), maxFiles,
                    files.get(0).getFileName());
        }
        openAt(files.get(0), List.of(), 0, null);
        return true;
    }

    /** The files Docker created after the prefetched one, as the chain queues them (a file without a first line yet is left to it). */
    private List<RotationChain.Upcoming> newerOf(LogPrefetcher.Held early) throws IOException {
        List<FileIdentity.Opened> newer = early.newer().takeAll();
        List<RotationChain.Upcoming> out = new ArrayList<>();
        for (FileIdentity.Opened o : newer) {
            String fp = FileIdentity.fingerprint(o.channel());
            if (fp == null) {
                closeQuietly(o.channel());
            } else {
                out.add(new RotationChain.Upcoming(o.channel(), o.key(), fp, current, null));
            }
        }
        return out;
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only
        }
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

    /**
     * Opens {@code p} at {@code offset} and starts the chain: the files {@code older} than it are
     * accounted for, the ones newer are opened and queued.
     */
    private void openAt(Path p, List<Path> older, long offset, String id) throws IOException {
        FileIdentity.Opened o = FileIdentity.openStable(p);
        if (o == null) {
            throw new NoSuchFileException(p.toString(), null, "rotated away while being opened");
        }
        if (id == null && offset > 0) {
            id = FileIdentity.fingerprint(p);
        }
        use(o.channel(), null, id, offset, o.key());
        chain.start(older, o.key(), id != null ? id : FileIdentity.fingerprint(p));
    }

    /** Reads {@code ch} (a log file, or the spool segment {@code seg}) from {@code offset}, in the log file's coordinates. */
    private void use(FileChannel ch, Spool.Segment seg, String fileId, long offset, Object key) {
        // from now on the file is the chain's: it closes it once its bytes are acknowledged, or when the tailer ends
        source = seg == null ? JsonFileReader.Source.of(ch) : segmentSource(ch, seg);
        reader.open(fileId, offset);
        if (fileId != null && tracker.committed() == null && tracker.outstanding() == 0) {
            // the registry records the container from its first read: where it started is the resume point until an ack
            tracker.skipped(new io.logferry.model.Cursor(reader.fileSeq(), fileId, offset));
        }
        chain.opened(new RotationChain.Source(reader.fileSeq(), ch, key, fileId, seg, offset));
    }

    /** A spool segment read as the bytes {@code [base, end)} of its log file. */
    static JsonFileReader.Source segmentSource(FileChannel ch, Spool.Segment seg) {
        long shift = seg.dataStart() - seg.base();
        return new JsonFileReader.Source() {
            @Override
            public long size() {
                return seg.end();
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                if (position >= seg.end()) {
                    return -1;
                }
                if (position < seg.base()) {
                    throw new IOException("offset " + position + " is before the spooled range " + seg.base() + "-" + seg.end());
                }
                return ch.read(dst, position + shift);
            }
        };
    }

    /**
     * Resumes from the registry's entry and the spool, in the order {@link ResumePlan} gives: the
     * chain of files the last run read (each from disk, else from its spooled copy, else reported
     * lost with its byte range), then what Docker wrote after it. Segments read are in the log
     * files' coordinates, so cursors and {@code _id}s are those of the files.
     */
    private boolean openPlanned(List<Spool.Segment> spooled) throws IOException {
        List<ResumePlan.OnDisk> disk = new ArrayList<>();
        for (Path p : chain.files()) {
            if (Files.exists(p)) {
                disk.add(new ResumePlan.OnDisk(p, FileIdentity.fingerprint(p)));
            }
        }
        int maxFiles = maxFiles();
        ResumePlan plan = ResumePlan.of(resume, disk, spooled, maxFiles);
        for (ResumePlan.Loss l : plan.losses) {
            reportLost(l);
        }
        for (Spool.Segment s : plan.acknowledged) {
            spool.delete(s);                 // before the registry's file: acknowledged
        }
        java.util.Map<Object, String> live = new java.util.HashMap<>();
        List<Path> older = new ArrayList<>();
        for (ResumePlan.OnDisk d : plan.older) {
            older.add(d.path());
            Object k = FileIdentity.key(d.path());
            if (k != null && d.fileId() != null) {
                live.put(k, d.fileId());
            }
        }
        List<RotationChain.Upcoming> queued = new ArrayList<>();
        Object newest = null;
        Object first = null;
        boolean opened = false;
        ResumePlan.Part firstPart = null;
        for (ResumePlan.Part p : plan.parts) {
            FileChannel ch;
            Object key = null;
            if (p.live() != null) {
                FileIdentity.Opened o = FileIdentity.openStable(p.live());
                if (o == null || !p.fileId().equals(FileIdentity.fingerprint(o.channel()))) {
                    if (o != null) {
                        o.channel().close();
                    }
                    reportLost(new ResumePlan.Loss(p.fileId(), p.start(), 0, "Docker rotated it away while the agent was opening it"));
                    continue;
                }
                ch = o.channel();
                key = o.key();
                live.put(key, p.fileId());
                newest = key;
            } else {
                ch = FileChannel.open(p.segment().path(), StandardOpenOption.READ);
            }
            if (!opened) {
                use(ch, p.segment(), p.fileId(), p.start(), key);
                first = key;
                opened = true;
                firstPart = p;
                for (Spool.Segment c : p.copies()) {
                    chain.copied(c);         // deleted with the file once it is acknowledged
                }
            } else {
                queued.add(new RotationChain.Upcoming(ch, key, p.fileId(), p.live() != null ? p.live() : p.segment().path(), p.segment()));
                if (p.live() != null && p.start() > 0) {
                    queuedStarts.put(p.fileId(), p.start());
                }
                for (Spool.Segment c : p.copies()) {
                    spool.delete(c);         // the file itself is read: a copy is not needed
                }
            }
        }
        if (!opened) {
            if (disk.isEmpty()) {
                return false;
            }
            // nothing of the chain is left to read (or the live log has no line yet): from the newest file's start
            Path last = disk.get(disk.size() - 1).path();
            openAt(last, older.isEmpty() ? List.of() : older, 0, null);
            return true;
        }
        chain.startQueued(queued, live, newest, first);
        if (spooled.isEmpty()) {
            log.info("{}: resuming {} at offset {}", container.describe(), firstPart.live().getFileName(), firstPart.start());
        } else {
            log.info("{}: resuming from the spool ({} spooled range(s)) at {} offset {}", container.describe(), spooled.size(),
                    firstPart.fileId(), firstPart.start());
        }
        return true;
    }

    /** A file of the chain that neither Docker nor the spool holds: logged with its byte range and counted, once. */
    private void reportLost(ResumePlan.Loss l) {
        lost.increment();
        if (l.fileId() == null) {
            log.warn("LOST: {}: {}", container.describe(), l.why());
            return;
        }
        if (l.to() > l.from()) {
            lostBytes.add(l.to() - l.from());
            log.warn("LOST: {}: the log file {} was read from offset {} to {} and not all acknowledged; {}: its bytes {}-{}, and any after"
                    + " them, are lost", container.describe(), l.fileId(), l.from(), l.to(), l.why(), l.from(), l.to());
        } else {
            log.warn("LOST: {}: the log file {} (acknowledged up to offset {}) was rotated away and {}: its bytes after that offset,"
                    + " and any file rotated between it and the oldest left, may be lost", container.describe(), l.fileId(), l.from(), l.why());
        }
    }

    private void follow() throws IOException, InterruptedException {
        long idleSleep = 10;
        follower = Thread.currentThread();
        chain.wakes(Thread.currentThread());
        while (!shutdown) {
            if (readAll() > 0) {
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
                chain.awaitCheck(LAST_CHECK_MILLIS);   // a rotation just before the stop
                if (chain.hasNext() || readAll() > 0) {
                    continue;
                }
                assembler.flushAll();
                publisher.flush();
                if (spool != null && (!removed || chain.unspooled()) && tracker.outstanding() > 0) {
                    // its files stay open until acknowledged: a docker rm meanwhile moves them to the spool, and a removed
                    // container's tailer keeps them until every copy is in (a copy the spool refused is tried again)
                    Thread.sleep(100);
                    continue;
                }
                log.info("{}: read to the end of its log at offset {}; tailer done", container.describe(), reader.position());
                return;
            }
            reader.releaseIfIdle(System.nanoTime(), idleReleaseNanos);
            // until the file grows: inotify's modify event (RotationWatch) unparks this thread at once;
            // without inotify, look again within 250 ms. Once the 2 s step is reached with nothing of its
            // own to time, a watched tailer waits for an event alone (QUIET_WAIT_MS is the safety net).
            boolean quiet = idleSleep >= IDLE_WAIT_WATCHED_MS && chain.watched() && !stopped
                    && !assembler.holding() && !reader.holdsBuffer();
            long waitNanos = (quiet ? QUIET_WAIT_MS : idleSleep) * 1_000_000L;
            long parkedAt = System.nanoTime();
            LockSupport.parkNanos(this, waitNanos);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (System.nanoTime() - parkedAt < waitNanos) {
                // woken by an event: if it was Docker's rotation (a modify of the new -json.log), the watch
                // hands the new file over just after the wake, so look again soon, stepping up as before
                idleSleep = 10;
            } else {
                idleSleep = Math.min(idleSleep * 2, chain.watched() ? IDLE_WAIT_WATCHED_MS : IDLE_WAIT_MS);
            }
        }
    }

    /** Reads what is there and hands every complete line on; returns the bytes read. */
    private int readAll() throws IOException, InterruptedException {
        int total = 0;
        while (!shutdown) {
            int n = reader.readOnce(source);
            if (n <= 0) {
                break;
            }
            total += n;
            publisher.flush();
            readLag.flush();
        }
        return total;
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
        long size = source.size();
        long at = reader.position();
        if (size >= at) {
            return false;
        }
        truncations.increment();
        log.warn("{}: its log file {} was truncated in place to {} bytes while the agent had read it to offset {};"
                + " reading it again from offset 0", container.describe(), current.getFileName(), size, at);
        assembler.flushAll();
        publisher.flush();
        reader.open(null, 0);
        chain.renumber(reader.fileSeq());
        return true;
    }

    /** Tests: how long an idle tailer keeps its read buffer. */
    void idleRelease(java.time.Duration d) {
        idleReleaseNanos = d.toNanos();
    }

    /** Bytes of read buffer this tailer holds now (0 while it has had nothing to read for a while); the tailer's thread. */
    int bufferBytes() {
        return reader.bufferBytes();
    }

    private void reportMalformed(long offset, String why) {
        malformed.increment();
        if (malformedLogged++ < 10 || malformedLogged % 1000 == 0) {
            log.warn("{}: skipped a malformed json-file line at {} offset {}: {} ({} so far)", container.describe(),
                    current.getFileName(), offset, why, malformedLogged);
        }
    }

    /**
     * When the rotation watch has handed over a newer file, Docker has finished with the open one
     * (it renames, then writes to a new file): read the open one to its end and continue with the
     * next. Returns true when it moved.
     */
    private boolean moveToNextFile() throws IOException, InterruptedException {
        if (!chain.hasNext()) {
            return false;
        }
        while (readAll() > 0) {
            // finish the renamed file
        }
        if (reader.unfinished() > 0) {
            // an unfinished line at the end of a rotated file never gets its newline
            reportMalformed(reader.lineStart(), "an incomplete last line in a rotated file");
        }
        RotationChain.Upcoming next = chain.next();
        if (next == null) {
            return false;
        }
        Long planned = next.fileId() == null ? null : queuedStarts.remove(next.fileId());
        use(next.channel(), next.segment(), next.fileId(), next.live() ? (planned == null ? 0 : planned) : next.segment().base(), next.key());
        log.debug("{}: rotation, now reading {}", container.describe(), next.seenAs().getFileName());
        return true;
    }

    /** The offset read up to in the open file (any thread). */
    long readOffset() {
        return reader.position();
    }

    /** Files held open beyond the one being read. */
    int heldFileCount() {
        return chain.heldCount();
    }

    /** The offset just after the file's last complete line (0 when it has none): where "end" starts. */
    static long lastLineEnd(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return Spool.lastLineEnd(ch, 0, ch.size());
        }
    }

    @Override
    public long behind() {
        JsonFileReader.Source src = source;
        long pos = reader.position();
        long total = 0;
        try {
            if (src != null) {
                total += Math.max(0, src.size() - pos);
            }
            total += chain.heldBytes();
        } catch (IOException e) {
            return -1;
        }
        return total;
    }
}
