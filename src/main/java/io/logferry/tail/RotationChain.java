package io.logferry.tail;

import io.logferry.model.ContainerInfo;
import io.logferry.model.Cursor;
import io.logferry.spool.Spool;
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
import java.util.concurrent.locks.LockSupport;
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
 *                                  └─ beyond limits.held_*: the oldest queued ──► spool (LOST without one)
 *                                  └─ read files: closed once acknowledged; rotated by Docker with bytes
 *                                     unacknowledged (2 s, or at once while acks stand still), deleted,
 *                                     or the container removed: unacknowledged bytes ──► spool
 *   logferry-spool thread: only the I/O the watch decided (copies, each synced; deletes) ──outcome──►
 *                          posted to the chain; the watch applies it at its next check
 *   tailer thread: opened(source) ──► read sources kept; reading(inode) ──volatile──► check()
 * </pre>
 *
 * <p>Invariant: every byte the tailer has read and not seen acknowledged is in a file the chain
 * holds open, or in the spool, or (from Docker's rotation until the copy is synced: at most the
 * 2 s grace while acknowledgements move, which they do only when Elasticsearch takes them)
 * only in the open file. The registry names the files read from the first read
 * ({@code Registry.Read}), so what a crash in that window loses is reported at the next start.
 *
 * <p>Ownership: the tailer's thread builds the chain and runs its first discovery in
 * {@link #start} (or {@link #startEarly}, {@link #startQueued}), before it registers it with the
 * {@link RotationWatch}; from then on the watch's thread alone runs {@link #check} and owns
 * {@code known}, {@code newestKey}, {@code absentSince}, {@code rotatedSince}, the spool pause and
 * every decision of what goes to the spool, and alone changes a source's {@code spooled} and
 * {@code copies}. The spool thread only does I/O: it reads the file it is given, writes or deletes
 * segments, and posts the outcome ({@code outcomes}); a failed copy is not marked spooled and is
 * offered again after a pause (the spool reports a problem until it is in or no longer needed). A
 * file under a copy is "in flight" ({@code inFlight}): not released, not offered again, and not
 * closed by {@link #close} (the copy's end closes it when the chain has closed meanwhile). The
 * tailer only takes files ({@link #next}), reports the source it opens ({@link #opened}), says
 * which file it reads ({@link #reading}, a volatile), and closes the chain. The hand-off queues
 * ({@code upcoming}, {@code outcomes}), the read sources, {@code inFlight}, {@code failedCopies}
 * and the {@code closed} flag are guarded by one {@link ReentrantLock}, never held during file I/O.
 */
final class RotationChain {
    private static final Logger log = LoggerFactory.getLogger(RotationChain.class);

    /**
     * A file newer than the one being read, held open; or its copy in the spool ({@code segment}
     * set, {@code channel} the segment file's), once it was released beyond {@code limits.held_*}
     * or its container was removed.
     */
    record Upcoming(FileChannel channel, Object key, String fileId, Path seenAs, Spool.Segment segment) {
        boolean live() {
            return segment == null;
        }
    }

    /**
     * A file (or spooled copy) the tailer has opened: kept open until everything read from it is
     * acknowledged (its sequence number is below the committed cursor's), so that a crash can
     * always resume from it; copied to the spool when Docker deletes it or the container is removed.
     */
    static final class Source {
        /** Guarded by the chain's lock (the tailer renumbers it when a truncated file is read again). */
        long seq;
        final FileChannel channel;
        final Object key;
        final String fileId;
        final Spool.Segment segment;
        final long start;
        /** The watch thread's once the chain is handed over: its unacknowledged bytes are in the spool (or the full spool refused them). */
        boolean spooled;
        /** Guarded by the chain's lock: the copy holds its bytes and the file is closed. */
        boolean channelClosed;
        /** Added to by the watch thread (and by the tailer before the hand-over) under the chain's lock. */
        final List<Spool.Segment> copies = new ArrayList<>();

        Source(long seq, FileChannel channel, Object key, String fileId, Spool.Segment segment, long start) {
            this.seq = seq;
            this.channel = channel;
            this.key = key;
            this.fileId = fileId;
            this.segment = segment;
            this.start = start;
            this.spooled = segment != null;
        }
    }

    private final Path dir;
    private final String containerId;
    private final Path current;
    private final Supplier<String> container;
    private final Supplier<ContainerInfo> info;
    /** The container's committed cursor (its acknowledgement tracker's). */
    private final Supplier<Cursor> acked;
    private final HeldFiles held;
    /** Null: no spool (tests); released files are then lost as before. */
    private final Spool spool;
    /** Set by the tailer when its container is removed: the watch copies every held file to the spool. */
    private volatile boolean spoolAll;
    private final LongAdder lost;
    private final LongAdder lostBytes;
    private final java.util.function.LongSupplier nanoTime;

    /**
     * A file Docker rotated (renamed) with bytes the tailer read and the output has not
     * acknowledged is copied to the spool once it has been rotated this long, or at once while
     * the acknowledgements stand still this long (Elasticsearch away or far behind): Docker may
     * delete it while the agent is down, and then only the spool has it. When Elasticsearch keeps
     * up, the bytes are acknowledged within the grace and nothing is copied.
     */
    static final long COPY_AFTER_ROTATION_NANOS = 2_000_000_000L;
    /** Watch thread only: the committed cursor at the last check, and when it last moved (nanoTime). */
    private Cursor lastAcked;
    private long ackMovedAt;
    /** Watch thread only: read files seen rotated (renamed) with unacknowledged bytes, since when (nanoTime). */
    private final Map<Object, Long> rotatedSince = new HashMap<>();
    /** Watch thread only: the inode the log path names at this check (null: none). */
    private Object currentKey;

    /** Owned by the watch thread: every file accounted for (read, being read, queued, or before the start): inode → fingerprint. */
    private final Map<Object, String> known = new HashMap<>();
    /** Owned by the watch thread: open files whose name was missing from the last listing, since when (nanoTime). */
    private final Map<Object, Long> absentSince = new HashMap<>();
    private static final long GONE_AFTER_MILLIS = 50;
    /** One thread for every chain's spool I/O (copies, deletes). */
    static final java.util.concurrent.ExecutorService SPOOLER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "logferry-spool");
        t.setDaemon(true);
        return t;
    });
    /** Runs the spool I/O: it only reads the files it is given and writes the spool; what to make of it is the watch's. */
    private final java.util.concurrent.Executor spooler;
    /**
     * Guarded by {@link #lock}: files (their channels) given to the spool thread whose outcome the
     * watch has not applied yet: not offered again, not released. {@code running}: those whose job
     * has not ended: not closed under it.
     */
    private final Set<FileChannel> inFlight = new HashSet<>();
    private final Set<FileChannel> running = new HashSet<>();
    /** Guarded by {@link #lock}: outcomes the spool thread posted, applied by the watch thread at its next check. */
    private final ArrayDeque<Runnable> outcomes = new ArrayDeque<>();
    /** Guarded by {@link #lock}: files whose copy failed and is to be retried: the spool reports a problem until it is in, or not needed. */
    private final Set<String> failedCopies = new HashSet<>();
    /** Watch thread only: waiting files the spool could not take (full): not offered again, their loss counted once. */
    private final Set<FileChannel> refused = new HashSet<>();
    /** After the spool failed, a waiting file is offered to it again after this long (one error line per file and 10 s). */
    private static final long SPOOL_RETRY_NANOS = 10_000_000_000L;
    /** Watch thread only: after a failed copy, nothing is offered to the spool before this (nanoTime). */
    private long spoolPausedUntil;
    /** Owned by the watch thread: new {@code -json.log} files inotify reported since the last look. */
    private final java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
    /** Set when the watch registers the directory (the tailer's thread, then read by the watch); {@code counting}: and no event was lost since the last look (watch thread). */
    private volatile boolean watched;
    private boolean counting;
    /** Owned by the watch thread: the newest file handed to the tailer (or the one it started with). */
    private Object newestKey;
    /** Written by the tailer: the inode of the file it reads. */
    private volatile Object reading;
    /** Watch rounds completed, for {@link #awaitCheck}. */
    private final AtomicLong checks = new AtomicLong();
    /** Set by {@link #awaitCheck}: the watch checks this chain every round until {@link #checks} reaches it. */
    private volatile long checksWanted;
    /** The tailer's thread, parked while its file does not grow; null before it follows. */
    private volatile Thread tailer;

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final ArrayDeque<Upcoming> upcoming = new ArrayDeque<>();
    /** Guarded by {@link #lock}: the source the tailer reads now. */
    private Source readNow;
    /** Guarded by {@link #lock}: sources read, oldest first, whose bytes are not all acknowledged yet. */
    private final ArrayDeque<Source> retained = new ArrayDeque<>();
    /** Guarded by {@link #lock}. */
    private boolean closed;

    /**
     * @param container describes the container in log lines (it may be renamed)
     * @param lost, lostBytes the container's loss counters
     */
    RotationChain(Path dir, String containerId, Supplier<ContainerInfo> info, Supplier<Cursor> acked, HeldFiles held, Spool spool,
                  LongAdder lost, LongAdder lostBytes) {
        this(dir, containerId, info, acked, held, spool, lost, lostBytes, System::nanoTime, SPOOLER);
    }

    /**
     * @param nanoTime the clock of the copy-after-rotation grace and of the retry pause (tests turn it by hand)
     * @param spooler where the spool I/O runs (tests run its jobs by hand)
     */
    RotationChain(Path dir, String containerId, Supplier<ContainerInfo> info, Supplier<Cursor> acked, HeldFiles held, Spool spool,
                  LongAdder lost, LongAdder lostBytes, java.util.function.LongSupplier nanoTime, java.util.concurrent.Executor spooler) {
        this.nanoTime = nanoTime;
        this.spooler = spooler;
        this.ackMovedAt = nanoTime.getAsLong();
        this.acked = acked;
        this.dir = dir;
        this.containerId = containerId;
        this.current = dir.resolve(containerId + "-json.log");
        this.info = info;
        this.container = () -> info.get().describe();
        this.held = held;
        this.spool = spool;
        this.lost = lost;
        this.lostBytes = lostBytes;
    }

    /** The watch thread: inotify watches the directory from now on (its creations are counted). */
    void watching() {
        watched = true;
    }

    /** Whether inotify watches the directory: then the tailer may wait longer, since {@link #modifiedEvent} wakes it. */
    boolean watched() {
        return watched;
    }

    /**
     * The watch thread, each round: whether this chain is checked in it. A chain inotify watches is
     * checked at once on each creation in its directory, so the periodic look is only every
     * {@code fullRound}; one without inotify, one whose tailer {@link #awaitCheck waits} for a
     * check, or one {@link #holding} rotated files, every round.
     */
    boolean due(boolean fullRound) {
        return fullRound || !watched || checks.get() < checksWanted || holding();
    }

    /**
     * Whether the chain has rotated files in hand (read and not all acknowledged, or not read yet),
     * copies to the spool in progress, or files seen deleted: then every round, so that a file
     * Docker deleted while held moves to the spool and is let go as fast as before. An idle
     * container's chain holds none.
     */
    private boolean holding() {
        if (!absentSince.isEmpty()) {
            return true;
        }
        lock.lock();
        try {
            return !retained.isEmpty() || !upcoming.isEmpty() || !inFlight.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** The tailer's thread, once it follows the file: {@link #modifiedEvent} unparks it. */
    void wakes(Thread tailer) {
        this.tailer = tailer;
    }

    /** The watch thread: inotify reported a file of the directory modified (Docker wrote to the log): wake the tailer. */
    void modifiedEvent() {
        Thread t = tailer;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** The watch thread: inotify reported a file created in the directory. */
    void createdEvent(Path name) {
        if (name.toString().equals(containerId + "-json.log")) {
            created.incrementAndGet();
        }
    }

    /** The watch thread: inotify lost events; the next look cannot count creations. */
    void overflow() {
        counting = false;
    }

    /** The container's log directory. */
    Path dir() {
        return dir;
    }

    /** The container's log files, oldest first: {@code -json.log.N} ... {@code -json.log.1}, then {@code -json.log}. */
    List<Path> files() {
        List<Path> out = rotatedOldestFirst();
        if (Files.exists(current)) {
            out.add(current);
        }
        return out;
    }

    /**
     * The rotated files {@code -json.log.N}, highest N first. Every N the directory holds, not only
     * those up to the first gap: while Docker renames {@code .1} to {@code .2}, {@code .1} is
     * missing for a moment, and a look at that moment must still see {@code .2} and beyond.
     */
    List<Path> rotatedOldestFirst() {
        java.util.TreeMap<Integer, Path> byNumber = new java.util.TreeMap<>(java.util.Comparator.reverseOrder());
        String prefix = containerId + "-json.log.";
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path p : ds) {
                String n = p.getFileName().toString().substring(prefix.length());
                if (!n.isEmpty() && n.length() < 5 && n.chars().allMatch(Character::isDigit)) {
                    byNumber.put(Integer.parseInt(n), p);
                }
            }
        } catch (IOException e) {
            return new ArrayList<>();        // no directory (yet, or any more)
        }
        return new ArrayList<>(byNumber.values());
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

    /**
     * The tailer opened {@code s} and reads it now: the source it read before is retained until
     * its bytes are acknowledged.
     */
    void opened(Source s) {
        lock.lock();
        try {
            if (readNow != null) {
                retained.add(readNow);
            }
            readNow = s;
        } finally {
            lock.unlock();
        }
    }

    /** The tailer: {@code seg} is a spooled copy of the source it reads now, deleted with it once acknowledged. */
    void copied(Spool.Segment seg) {
        lock.lock();
        try {
            if (readNow != null) {
                readNow.copies.add(seg);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The tailer reads the same file again from offset 0 (truncated in place) under a new sequence number. */
    void renumber(long seq) {
        lock.lock();
        try {
            if (readNow != null) {
                readNow.seq = seq;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * On the tailer's thread before {@link RotationWatch#add}, when it resumes from the spool:
     * {@code queued} are the sources to read after the one it opened (spooled copies and log files,
     * oldest first); {@code live} the log files among them and before them; {@code newest} the
     * newest of them (null when the container's files are gone).
     */
    void startQueued(List<Upcoming> queued, java.util.Map<Object, String> live, Object newest, Object readingKey) {
        known.putAll(live);
        newestKey = newest;
        reading = readingKey;
        lock.lock();
        try {
            upcoming.addAll(queued);
        } finally {
            lock.unlock();
        }
    }

    /**
     * On the tailer's thread before {@link RotationWatch#add}: the tailer reads the prefetched
     * first file {@code key} from its start; {@code newer} are the files Docker created after it
     * before the tailer came, held open by the prefetcher, oldest first.
     */
    void startEarly(Object key, List<Upcoming> newer) throws IOException {
        newestKey = key;
        reading = key;
        for (Upcoming u : newer) {
            known.put(u.key(), u.fileId());
            newestKey = u.key();
        }
        lock.lock();
        try {
            upcoming.addAll(newer);
        } finally {
            lock.unlock();
        }
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
            // a spooled copy's file is closed: its inode may name a new file Docker creates, which must not pass for it
            reading = u.live() ? u.key() : null;
        }
        return u;
    }

    /** Log files held open beyond the one being read (their spooled copies not counted). */
    int heldCount() {
        lock.lock();
        try {
            return (int) upcoming.stream().filter(Upcoming::live).count();
        } finally {
            lock.unlock();
        }
    }

    /** Unread bytes of the files (and spooled copies) waiting beyond the one being read (any thread). */
    long heldBytes() throws IOException {
        long total = 0;
        for (Upcoming u : snapshot()) {
            total += u.live() ? u.channel().size() : u.segment().length();
        }
        return total;
    }

    /** The tailer: its container was removed; the watch copies every file still waiting to the spool. */
    void spoolAll() {
        spoolAll = true;
    }

    private List<Upcoming> snapshot() {
        lock.lock();
        try {
            return new ArrayList<>(upcoming);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The tailer ends: the held files are closed (those under a copy by the copy's end) and no
     * longer counted, the acknowledged ones' spooled copies deleted; the watch drops the chain.
     */
    void close() {
        Cursor c = acked.get();
        List<FileChannel> toClose = new ArrayList<>();
        List<Spool.Segment> acknowledged = new ArrayList<>();
        List<String> failed;
        lock.lock();
        try {
            closed = true;
            for (Upcoming u : upcoming) {
                if (!running.contains(u.channel())) {
                    toClose.add(u.channel());
                }
            }
            upcoming.clear();
            for (Source r : retained) {
                if (!running.contains(r.channel)) {
                    toClose.add(r.channel);
                }
                if (c != null && r.seq < c.fileSeq()) {
                    if (r.segment != null) {
                        acknowledged.add(r.segment);
                    }
                    acknowledged.addAll(r.copies);
                }
            }
            retained.clear();
            failed = new ArrayList<>(failedCopies);
            failedCopies.clear();
            held.update(this, 0);
        } finally {
            lock.unlock();
        }
        toClose.forEach(RotationChain::close);
        if (spool != null) {
            failed.forEach(id -> spool.settled(containerId, id));
            acknowledged.forEach(spool::delete);
        }
    }

    /**
     * The tailer, before it decides that the container's logs are read to their end: waits
     * (at most {@code timeoutMillis}) for a whole check that started after this call, so that a
     * rotation just before the container stopped is not missed.
     */
    void awaitCheck(long timeoutMillis) throws InterruptedException {
        long target = checks.get() + 2;
        checksWanted = target;
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
            applyOutcomes();
            boolean rotated = discoverIfRotated();
            boundHeld();
            // Docker deletes files only when it rotates (or removes the container): list the directory only then
            Set<Object> present = spool != null && (rotated || !absentSince.isEmpty()) ? presentKeys() : null;
            protect(present);
            spoolWaiting(present);
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
    private boolean discoverIfRotated() throws IOException {
        currentKey = FileIdentity.key(current);
        if (newestKey != null && newestKey.equals(currentKey)) {
            return false;
        }
        discover();
        return true;
    }

    /**
     * Lists the container's log files and opens, oldest first, every one not yet accounted for:
     * any such file is newer than those known. Holding them open means Docker's rotation can
     * rename and delete them without losing a byte, as long as this runs more often than Docker
     * cycles through all {@code max-file} files. When even the newest known file is gone, files
     * may have come and gone unseen: that is reported as a loss.
     */
    private void discover() throws IOException {
        // a look while Docker renames files (inotify wakes this thread right then) can see a name that is
        // gone when it is opened, or one file under two names: such a look is taken again
        for (int attempt = 1; ; attempt++) {
            if (discoverOnce(attempt == DISCOVER_ATTEMPTS)) {
                return;
            }
        }
    }

    private static final int DISCOVER_ATTEMPTS = 5;

    /** One look; false (and nothing changed) when the directory changed under it and {@code last} is false. */
    private boolean discoverOnce(boolean last) throws IOException {
        Object readingNow = reading;
        Set<Object> present = new HashSet<>();
        List<Upcoming> found = new ArrayList<>();
        boolean stable = true;
        List<Path> listed = files();
        List<Object> keys = new ArrayList<>();
        for (Path p : listed) {
            // identity and first line from one open file: a path can be renamed between two calls
            FileIdentity.Opened o = FileIdentity.openStable(p);
            keys.add(o == null ? null : o.key());
            if (o == null || present.contains(o.key())) {
                stable = false;
                if (o != null) {
                    o.channel().close();
                }
                if (!last) {
                    break;
                }
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
                found.add(new Upcoming(o.channel(), key, now, p, null));
                present.add(key);
                keep = true;
            } finally {
                if (!keep) {
                    o.channel().close();
                }
            }
        }
        if (stable) {
            // the same names, naming the same files, after the look: no rename happened during it
            List<Path> again = files();
            stable = again.equals(listed);
            for (int i = 0; stable && i < again.size(); i++) {
                stable = java.util.Objects.equals(FileIdentity.key(again.get(i)), keys.get(i));
            }
        }
        if (!stable && !last) {
            for (Upcoming u : found) {
                close(u.channel());
            }
            return false;
        }
        handOver(found, present, readingNow, stable);
        return true;
    }

    /**
     * Queues the files {@code found} for the tailer (or closes them when it has gone), reports a
     * loss when even the newest known file is gone, and forgets what Docker deleted.
     */
    private void handOver(List<Upcoming> found, Set<Object> present, Object readingNow, boolean stable) {
        // with inotify, the files Docker created since the last look are counted: when every one is found, even the
        // newest known file being gone (two rotations in one burst) lost nothing
        int made = created.getAndSet(0);
        boolean exact = counting;
        counting = watched;
        boolean allFound = exact && made <= found.size();
        if (stable && newestKey != null && !present.contains(newestKey) && !found.isEmpty() && !allFound) {
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
        if (!stable) {
            return;                          // a name may have been missed: forget nothing on this look
        }
        // forget what Docker deleted, except what is still held open
        Set<Object> open = new HashSet<>();
        queued.forEach(u -> open.add(u.key()));
        known.keySet().removeIf(k -> !present.contains(k) && !k.equals(readingNow) && !open.contains(k));
    }

    /**
     * Lets go of the sources whose bytes are all acknowledged (their spooled copies deleted), and
     * copies to the spool the unacknowledged bytes of every read or being-read file that Docker
     * rotated or deleted (see {@link #rotatedUnacknowledged}), or all of them once the container is
     * removed: from then on a crash cannot lose them. A copied file that is read to its end is
     * closed. Watch thread; the copies run on the spool thread and come back through
     * {@link #applyOutcomes}.
     */
    private void protect(Set<Object> present) {
        releaseAcknowledged();
        List<Source> open = new ArrayList<>();
        List<Source> readAndCopied = new ArrayList<>();
        lock.lock();
        try {
            open.addAll(retained);
            if (readNow != null) {
                open.add(readNow);
            }
            for (Source r : retained) {
                if (!r.channelClosed && !inFlight.contains(r.channel) && (r.segment != null || !r.copies.isEmpty())) {
                    r.channelClosed = true;
                    readAndCopied.add(r);
                }
            }
        } finally {
            lock.unlock();
        }
        // read to its end and safe in the spool (copied while the tailer was still reading it): the disk space goes back
        readAndCopied.forEach(r -> close(r.channel));
        if (spool == null) {
            return;
        }
        long now = nanoTime.getAsLong();
        Cursor c = acked.get();
        if (!java.util.Objects.equals(c, lastAcked)) {
            lastAcked = c;
            ackMovedAt = now;
        }
        Set<Object> keys = new HashSet<>();
        for (Source s : open) {
            keys.add(s.key);
            if (!s.spooled && s.key != null && now - spoolPausedUntil >= 0
                    && (spoolAll || gone(s.key, present) || rotatedUnacknowledged(s, c, now))) {
                submit(s.channel, () -> copySource(s, c), o -> sourceCopied(s, o));
            }
        }
        rotatedSince.keySet().retainAll(keys);
    }

    /**
     * Whether {@code s} was rotated (the log path names another file) with bytes not acknowledged,
     * for {@link #COPY_AFTER_ROTATION_NANOS}, or while acknowledgements stood still that long.
     */
    private boolean rotatedUnacknowledged(Source s, Cursor c, long now) {
        if (currentKey == null || s.key.equals(currentKey) || s.segment != null) {
            return false;                    // still the live log (or between Docker's rename and create: next round)
        }
        if (c != null && c.fileSeq() > s.seq) {
            return false;                    // acknowledged: released at the next round
        }
        long since = rotatedSince.computeIfAbsent(s.key, k -> now);
        return now - since >= COPY_AFTER_ROTATION_NANOS || now - ackMovedAt >= COPY_AFTER_ROTATION_NANOS;
    }

    /**
     * Closes the read sources whose bytes are all acknowledged (not one under a copy: it goes at
     * the round after the copy's outcome) and deletes their spooled copies on the spool thread.
     */
    private void releaseAcknowledged() {
        Cursor c = acked.get();
        List<Source> done = new ArrayList<>();
        List<String> settled = new ArrayList<>();
        lock.lock();
        try {
            while (c != null && !retained.isEmpty() && retained.peekFirst().seq < c.fileSeq()
                    && !inFlight.contains(retained.peekFirst().channel)) {
                Source s = retained.pollFirst();
                done.add(s);
                if (s.fileId != null && failedCopies.remove(s.fileId)) {
                    settled.add(s.fileId);
                }
            }
        } finally {
            lock.unlock();
        }
        List<Spool.Segment> acknowledged = new ArrayList<>();
        for (Source s : done) {
            close(s.channel);
            if (s.segment != null) {
                acknowledged.add(s.segment);
            }
            acknowledged.addAll(s.copies);
        }
        if (spool != null) {
            settled.forEach(id -> spool.settled(containerId, id));
            deleteLater(acknowledged);
        }
    }

    /** What the spool thread made of a read source: the copy (null written: nothing to copy) of bytes {@code [from, size)}. */
    private record Copied(Spool.Written written, long from, long size, String fileId) { }

    /** The spool thread: copies the source's unacknowledged bytes; null when they were acknowledged meanwhile. */
    private Copied copySource(Source s, Cursor c) throws IOException {
        long seq;
        lock.lock();
        try {
            seq = s.seq;
        } finally {
            lock.unlock();
        }
        if (c != null && c.fileSeq() > seq) {
            return null;                     // acknowledged: released at the next round
        }
        long from = c != null && c.fileSeq() == seq ? Math.max(c.offset(), s.start) : s.start;
        long size = s.channel.size();
        String id = s.fileId != null ? s.fileId : FileIdentity.fingerprint(s.channel);
        if (id == null || size <= from) {
            return new Copied(null, from, size, id);
        }
        return new Copied(spool.write(info.get(), id, FileIdentity.firstTime(s.channel), s.channel, from, size), from, size, id);
    }

    /** The watch thread: the outcome of a source's copy. A failed one is not spooled: offered again after the pause. */
    private void sourceCopied(Source s, Outcome<Copied> o) {
        if (o.error() instanceof java.nio.channels.ClosedChannelException) {
            return;                          // the file was closed under the copy (let go meanwhile): not the spool's failure
        }
        if (o.error() != null) {
            spoolPausedUntil = nanoTime.getAsLong() + SPOOL_RETRY_NANOS;
            if (s.fileId != null) {
                lock.lock();
                try {
                    failedCopies.add(s.fileId);
                } finally {
                    lock.unlock();
                }
            }
            return;                          // logged by the spool, reported on /health until the copy is in
        }
        Copied r = o.value();
        if (r == null) {
            return;
        }
        s.spooled = true;
        Spool.Segment seg = r.written() == null ? null : r.written().segment();
        boolean readOut;
        lock.lock();
        try {
            if (seg != null) {
                s.copies.add(seg);
            }
            readOut = s != readNow;
            s.channelClosed |= readOut && seg != null;
            if (r.fileId() != null) {
                failedCopies.remove(r.fileId());
            }
        } finally {
            lock.unlock();
        }
        if (seg != null) {
            log.info("{}: {} unacknowledged bytes ({}-{}) of the log file {} copied to the spool: {}", container.get(),
                    r.size() - r.from(), r.from(), r.size(), r.fileId(), spoolAll ? "the container was removed"
                            : absentSince.containsKey(s.key) ? "Docker deleted the file" : "Docker rotated the file");
        }
        absentSince.remove(s.key);
        if (readOut && seg != null) {
            close(s.channel);                // read to its end and safe in the spool: the disk space goes back
        }
    }

    /** One piece of spool I/O. */
    @FunctionalInterface
    private interface SpoolJob<T> {
        T run() throws IOException;
    }

    /** What a spool job returned, or what it failed with. */
    private record Outcome<T>(T value, Exception error) { }

    /**
     * Runs {@code job} (which reads the file {@code ch}) on the spool thread, so that a slow volume
     * (every segment is synced) never delays this thread's opening of new files; its outcome is
     * posted back and {@code apply} runs on the watch thread at the next check. While it runs,
     * {@code ch} is in flight: not offered again, and never closed by anyone but the job's end
     * (when the chain closed meanwhile).
     */
    private <T> void submit(FileChannel ch, SpoolJob<T> job, java.util.function.Consumer<Outcome<T>> apply) {
        lock.lock();
        try {
            if (closed || !inFlight.add(ch)) {
                return;
            }
            running.add(ch);
        } finally {
            lock.unlock();
        }
        try {
            spooler.execute(() -> {
                Outcome<T> o;
                try {
                    o = new Outcome<>(job.run(), null);
                } catch (IOException e) {
                    o = new Outcome<>(null, e);
                } catch (RuntimeException e) {
                    log.error("{}: copying to the spool failed", container.get(), e);
                    o = new Outcome<>(null, e);
                }
                Outcome<T> done = o;
                boolean orphan;
                lock.lock();
                try {
                    running.remove(ch);
                    orphan = closed;
                    if (closed) {
                        inFlight.remove(ch);
                    } else {
                        outcomes.add(() -> {
                            lock.lock();
                            try {
                                inFlight.remove(ch);
                            } finally {
                                lock.unlock();
                            }
                            apply.accept(done);
                        });
                    }
                } finally {
                    lock.unlock();
                }
                if (orphan) {
                    close(ch);               // the tailer ended during the copy: the file was left to this job
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            lock.lock();
            try {
                inFlight.remove(ch);
                running.remove(ch);
            } finally {
                lock.unlock();
            }
        }
    }

    /** The watch thread, first thing in each check: applies the outcomes the spool thread posted. */
    private void applyOutcomes() {
        List<Runnable> now;
        lock.lock();
        try {
            now = new ArrayList<>(outcomes);
            outcomes.clear();
        } finally {
            lock.unlock();
        }
        now.forEach(Runnable::run);
    }

    /** Deletes acknowledged segments on the spool thread (a slow volume never stalls the watch). */
    private void deleteLater(List<Spool.Segment> segments) {
        if (segments.isEmpty() || spool == null) {
            return;
        }
        List<Spool.Segment> todo = List.copyOf(segments);
        try {
            spooler.execute(() -> todo.forEach(spool::delete));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            todo.forEach(spool::delete);
        }
    }

    /** Whether the file {@code key} is still in the container's directory (any thread; for a log line). */
    private boolean present(Object key) {
        return presentKeys().contains(key);
    }

    /** The inodes of every {@code -json.log*} file in the container's directory now. */
    private Set<Object> presentKeys() {
        Set<Object> out = new HashSet<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, containerId + "-json.log*")) {
            for (Path p : ds) {
                Object k = FileIdentity.key(p);
                if (k != null) {
                    out.add(k);
                }
            }
        } catch (IOException e) {
            // the directory is gone: so are its files
        }
        return out;
    }

    /**
     * Whether the open file {@code key} was deleted: its name is missing from two listings at
     * least {@value #GONE_AFTER_MILLIS} ms apart (a listing taken while Docker renames files may
     * miss a name for a moment; a deleted file never comes back). {@code present} null: the
     * directory was not listed this round. Watch thread only.
     */
    private boolean gone(Object key, Set<Object> present) {
        if (present == null) {
            return false;                    // not looked: nothing rotated since the last look
        }
        if (present.contains(key)) {
            absentSince.remove(key);
            return false;
        }
        long now = nanoTime.getAsLong();
        Long since = absentSince.putIfAbsent(key, now);
        return since != null && now - since >= GONE_AFTER_MILLIS * 1_000_000L;
    }

    /**
     * Holds at most {@code limits.held_files_per_container} log files beyond the one being read,
     * and together with all other tailers at most {@code limits.held_bytes_total} unread bytes in
     * them: beyond either, the oldest held file is copied to the spool, its place in the queue
     * taken by the copy, and the file closed (a deleted file's disk space is freed). Without a
     * spool, or while the spool fails, its bytes are reported lost ({@code LOST:},
     * {@code logferry_log_losses_total}, {@code logferry_log_lost_bytes_total}); what a full
     * spool cannot take it reports itself (counted once). The newest file is always kept: it is
     * where the container writes. A released file stays known by its fingerprint, so it is not
     * opened again while Docker keeps it.
     */
    private void boundHeld() {
        while (true) {
            List<Upcoming> seen = snapshot();
            long bytes = 0;
            int live = 0;
            Upcoming oldest = null;
            long total;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                if (!new ArrayList<>(upcoming).equals(seen)) {
                    continue;                // the tailer took a file meanwhile: count again
                }
                for (Upcoming u : seen) {
                    if (u.live() && !inFlight.contains(u.channel())) {
                        bytes += size(u.channel());
                        live++;
                        if (oldest == null) {
                            oldest = u;
                        }
                    }
                }
                total = held.update(this, bytes);
                if (live <= 1 || !held.over(live) || oldest == seen.get(seen.size() - 1)) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            Upcoming u = oldest;
            int liveNow = live;
            long totalNow = total;
            long size = size(u.channel());
            if (spool == null || nanoTime.getAsLong() - spoolPausedUntil < 0) {
                released(u, liveNow, totalNow, size, null);
            } else {
                submit(u.channel(), () -> spool.write(info.get(), u.fileId(), FileIdentity.firstTime(u.channel()), u.channel(), 0, size),
                        o -> released(u, liveNow, totalNow, size, o));
            }
        }
    }

    /**
     * The watch thread: moves one held file to its spooled copy (or, without one, loses it) and
     * closes it. A failed copy pauses the spool and leaves the file held: at the next round, if
     * it is still beyond the limits, it is let go as lost.
     */
    private void released(Upcoming u, int live, long total, long size, Outcome<Spool.Written> o) {
        if (o != null && o.error() instanceof java.nio.channels.ClosedChannelException) {
            return;                          // the file was closed under the copy (let go meanwhile): not the spool's failure
        }
        if (o != null && o.error() != null) {
            spoolPausedUntil = nanoTime.getAsLong() + SPOOL_RETRY_NANOS;
            lock.lock();
            try {
                failedCopies.add(u.fileId());
            } finally {
                lock.unlock();
            }
            return;
        }
        boolean settled;
        lock.lock();
        try {
            settled = failedCopies.remove(u.fileId());
        } finally {
            lock.unlock();
        }
        if (settled && spool != null) {
            spool.settled(containerId, u.fileId());  // copied now, or let go as lost below: no longer wanted either way
        }
        Spool.Written w = o == null ? null : o.value();
        long kept = w == null ? 0 : w.keptUpTo();
        if (!replace(u, w == null ? null : w.segment())) {
            if (w != null && w.segment() != null) {
                deleteLater(List.of(w.segment()));   // the tailer took the file meanwhile: it reads it itself
            }
            return;
        }
        close(u.channel());
        if (kept >= size) {
            log.info("{}: a rotated log file (fingerprint {}, first seen as {}) held open unread while the tailer is behind was"
                    + " moved to the spool ({} bytes) to stay within limits.held_files_per_container ({}, {} held) and"
                    + " limits.held_bytes_total ({}, {} held by all containers)", container.get(), u.fileId(),
                    u.seenAs().getFileName(), size, held.filesPerContainer(), live, held.bytesTotal(), total);
            return;
        }
        if (w != null) {
            return;                          // the spool kept what fit and reported the rest lost (counted there, once)
        }
        lost.increment();
        lostBytes.add(size - kept);
        log.warn("LOST: {}: a rotated log file (fingerprint {}, first seen as {}) was held open unread while the tailer was"
                + " behind; released to stay within limits.held_files_per_container ({}, {} held) and limits.held_bytes_total"
                + " ({}, {} held by all containers): its bytes {}-{} are lost", container.get(), u.fileId(), u.seenAs().getFileName(),
                held.filesPerContainer(), live, held.bytesTotal(), total, kept, size);
    }

    /**
     * Every file still waiting that Docker deleted, or all of them once the container is removed,
     * goes to the spool: the copy takes its place in the queue and the file is closed. A failed
     * copy is offered again after the pause; one the full spool refused is not (its loss was
     * counted once) and stays held.
     */
    private void spoolWaiting(Set<Object> present) {
        if (spool == null || nanoTime.getAsLong() - spoolPausedUntil < 0) {
            return;
        }
        List<Upcoming> waiting = snapshot();
        Set<FileChannel> channels = new HashSet<>();
        for (Upcoming u : waiting) {
            channels.add(u.channel());
            if (u.live() && !refused.contains(u.channel()) && (spoolAll || gone(u.key(), present))) {
                long size = size(u.channel());
                submit(u.channel(), () -> spool.write(info.get(), u.fileId(), FileIdentity.firstTime(u.channel()), u.channel(), 0, size),
                        o -> waitingCopied(u, o));
            }
        }
        refused.retainAll(channels);
    }

    /** The watch thread: the outcome of a waiting file's copy. */
    private void waitingCopied(Upcoming u, Outcome<Spool.Written> o) {
        if (o.error() instanceof java.nio.channels.ClosedChannelException) {
            return;                          // the file was closed under the copy (let go meanwhile): not the spool's failure
        }
        if (o.error() != null) {
            spoolPausedUntil = nanoTime.getAsLong() + SPOOL_RETRY_NANOS;
            lock.lock();
            try {
                failedCopies.add(u.fileId());
            } finally {
                lock.unlock();
            }
            return;
        }
        absentSince.remove(u.key());
        boolean settled;
        lock.lock();
        try {
            settled = failedCopies.remove(u.fileId());
        } finally {
            lock.unlock();
        }
        if (settled) {
            spool.settled(containerId, u.fileId());
        }
        Spool.Segment seg = o.value().segment();
        if (seg == null) {
            refused.add(u.channel());
            return;
        }
        if (replace(u, seg)) {
            close(u.channel());
        } else {
            deleteLater(List.of(seg));
        }
    }

    /** Puts the spooled copy in the place of {@code u} in the queue; false when {@code u} is no longer waiting. */
    private boolean replace(Upcoming u, Spool.Segment segment) {
        FileChannel copy = null;
        if (segment != null) {
            try {
                copy = FileChannel.open(segment.path(), java.nio.file.StandardOpenOption.READ);
            } catch (IOException e) {
                log.error("{}: the spool segment {} cannot be opened again: {}", container.get(), segment.path(), e.toString());
                segment = null;
            }
        }
        lock.lock();
        try {
            if (closed || !upcoming.contains(u)) {
                if (copy != null) {
                    close(copy);
                }
                return false;
            }
            ArrayDeque<Upcoming> next = new ArrayDeque<>();
            for (Upcoming x : upcoming) {
                if (x != u) {
                    next.add(x);
                } else if (segment != null) {
                    next.add(new Upcoming(copy, u.key(), u.fileId(), u.seenAs(), segment));
                }
            }
            upcoming.clear();
            upcoming.addAll(next);
            return true;
        } finally {
            lock.unlock();
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
