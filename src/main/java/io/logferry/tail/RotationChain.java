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
 *                                  └─ read files: closed once acknowledged; deleted by Docker, or the
 *                                     container removed: unacknowledged bytes ──► spool
 *   logferry-spool thread: the copies the watch decided (synced), a copy put in its file's place
 *   tailer thread: opened(source) ──► read sources kept; reading(inode) ──volatile──► check()
 * </pre>
 *
 * <p>Invariant: every byte the tailer has read and not seen acknowledged is in a file the chain
 * holds open, or in the spool, or (once Docker deleted it and before the copy is synced: 50 ms
 * to confirm the deletion, then the copy) only in the open file.
 *
 * <p>Ownership: the tailer's thread builds the chain and runs its first discovery in
 * {@link #start} (or {@link #startEarly}, {@link #startQueued}), before it registers it with the
 * {@link RotationWatch}; from then on the watch's thread alone runs {@link #check} and owns
 * {@code known}, {@code newestKey} and the decisions of what goes to the spool; the spool thread
 * runs the copies. The tailer only takes files ({@link #next}), reports the source it opens
 * ({@link #opened}), says which file it reads ({@link #reading}, a volatile), and closes the
 * chain. The hand-off queue, the read sources and the {@code closed} flag are guarded by a
 * {@link ReentrantLock}, never held during file I/O; {@code copying} keeps {@link #close} from
 * closing a file under a copy.
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
        /** Guarded by the chain's lock: its unacknowledged bytes are in the spool (or it could not be copied). */
        boolean spooled;
        /** Guarded by the chain's lock: the copy holds its bytes and the file is closed. */
        boolean channelClosed;
        /** Written by the spool thread when a copy failed, read by the watch: when it is tried again (nanoTime; 0: not failed). */
        volatile long retryAt;
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
    private final Map<Object, Long> absentSince = new java.util.concurrent.ConcurrentHashMap<>();
    private static final long GONE_AFTER_MILLIS = 50;
    /** The agent's spool thread ({@link RotationWatch#spooler}), shared by every chain. */
    private final java.util.concurrent.Executor spooler;
    /** Waiting files the full spool could not take any of (reported lost once by it): not offered again (any thread). */
    private final Set<Object> spoolRefused = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The sources and waiting files being copied on the spool thread now (any thread). */
    private final Set<Object> spooling = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** After the spool failed, a waiting file is offered to it again after this long (one error line per file and 10 s). */
    private static final long SPOOL_RETRY_NANOS = 10_000_000_000L;
    /** Owned by the watch thread. */
    private volatile long spoolPausedUntil;
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
    /** Held by the watch while it copies an open file to the spool, and by {@link #close}: no file is closed under a copy. */
    private final ReentrantLock copying = new ReentrantLock();
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
                  java.util.concurrent.Executor spooler, LongAdder lost, LongAdder lostBytes) {
        this(dir, containerId, info, acked, held, spool, spooler, lost, lostBytes, System::nanoTime);
    }

    /** @param nanoTime the clock of the copy-after-rotation grace (tests turn it by hand) */
    RotationChain(Path dir, String containerId, Supplier<ContainerInfo> info, Supplier<Cursor> acked, HeldFiles held, Spool spool,
                  java.util.concurrent.Executor spooler, LongAdder lost, LongAdder lostBytes, java.util.function.LongSupplier nanoTime) {
        this.spooler = spooler;
        this.nanoTime = nanoTime;
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
        if (!spooling.isEmpty() || !absentSince.isEmpty()) {
            return true;
        }
        lock.lock();
        try {
            return !retained.isEmpty() || !upcoming.isEmpty();
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
        return files(dir, containerId);
    }

    /** {@link #files()} of any container's directory. */
    static List<Path> files(Path dir, String containerId) {
        List<Path> out = rotatedOldestFirst(dir, containerId);
        Path current = dir.resolve(containerId + "-json.log");
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
        return rotatedOldestFirst(dir, containerId);
    }

    /** {@link #rotatedOldestFirst()} of any container's directory. */
    static List<Path> rotatedOldestFirst(Path dir, String containerId) {
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

    /**
     * The tailer of a removed container, before it ends: whether bytes it holds are neither
     * acknowledged nor in the spool yet (a read file not copied, a copy queued or failed and to
     * be tried again, a waiting file still live). Closing the chain then would leave them only in
     * the queue, which a crash loses.
     */
    boolean unspooled() {
        if (spool == null) {
            return false;
        }
        if (!spooling.isEmpty()) {
            return true;
        }
        lock.lock();
        try {
            if (readNow != null && !readNow.spooled && readNow.key != null) {
                return true;
            }
            for (Source r : retained) {
                if (!r.spooled && r.key != null) {
                    return true;
                }
            }
            return upcoming.stream().anyMatch(Upcoming::live);
        } finally {
            lock.unlock();
        }
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

    /** The tailer ends: the held files are closed and no longer counted; the watch drops the chain. */
    void close() {
        releaseAcknowledged();               // what is acknowledged by now lets go of its spooled copies
        List<Upcoming> left;
        List<Source> read;
        copying.lock();
        lock.lock();
        try {
            closed = true;
            left = new ArrayList<>(upcoming);
            upcoming.clear();
            read = new ArrayList<>(retained);
            retained.clear();
            held.update(this, 0);
        } finally {
            lock.unlock();
            copying.unlock();
        }
        left.forEach(u -> close(u.channel()));
        read.forEach(r -> close(r.channel));
        if (spool != null) {
            read.stream().filter(r -> !r.spooled && r.fileId != null)
                    .forEach(r -> spool.settled(containerId, r.fileId));   // the tailer ended: no copy of them is wanted
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
        // the creations inotify reported before this look starts: each is of a file this look lists, or of one
        // Docker deleted before it (a creation reported later, during the look, counts for the next look, whose
        // count it can only raise: a loss is then reported where none was, never the reverse)
        int made = created.getAndSet(0);
        // a look while Docker renames files (inotify wakes this thread right then) can see a name that is
        // gone when it is opened, or one file under two names: such a look is taken again
        for (int attempt = 1; ; attempt++) {
            if (discoverOnce(attempt == DISCOVER_ATTEMPTS, made)) {
                return;
            }
        }
    }

    private static final int DISCOVER_ATTEMPTS = 5;

    /** One look; false (and nothing changed) when the directory changed under it and {@code last} is false. */
    private boolean discoverOnce(boolean last, int made) throws IOException {
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
        handOver(found, present, readingNow, stable, made);
        return true;
    }

    /**
     * Queues the files {@code found} for the tailer (or closes them when it has gone), reports a
     * loss when even the newest known file is gone, and forgets what Docker deleted.
     */
    private void handOver(List<Upcoming> found, Set<Object> present, Object readingNow, boolean stable, int made) {
        // with inotify, the files Docker created since the last look are counted: when every one is found, even the
        // newest known file being gone (two rotations in one burst) lost nothing
        boolean exact = counting;
        counting = watched;
        boolean allFound = exact && made <= found.size();
        // a look that stayed unstable (Docker renamed files during every attempt) may have missed the newest known
        // file's name for a moment: it is gone only if a second listing does not have it either
        boolean newestGone = newestKey != null && !present.contains(newestKey) && (stable || !presentKeys().contains(newestKey));
        if (newestGone && !found.isEmpty() && !allFound) {
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
     * deleted (its path names another file, or none), or all of them once the container is
     * removed: from then on a crash cannot lose them. A copied file that is read to its end is
     * closed.
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
                if (!r.channelClosed && (r.segment != null || !r.copies.isEmpty())) {
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
            if (!s.spooled && s.key != null && !spooling.contains(s) && (s.retryAt == 0 || now - s.retryAt >= 0)
                    && (spoolAll || gone(s.key, present) || rotatedUnacknowledged(s, c, now))) {
                onSpoolThread(s, () -> copy(s, acked.get()));
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

    /** Closes the read sources whose bytes are all acknowledged and deletes their spooled copies; returns the committed cursor. */
    private Cursor releaseAcknowledged() {
        Cursor c = acked.get();
        List<Source> done = new ArrayList<>();
        lock.lock();
        try {
            while (c != null && !retained.isEmpty() && retained.peekFirst().seq < c.fileSeq()) {
                done.add(retained.pollFirst());
            }
        } finally {
            lock.unlock();
        }
        for (Source s : done) {
            close(s.channel);
            if (spool != null) {
                if (!s.spooled && s.fileId != null) {
                    spool.settled(containerId, s.fileId);   // a copy that failed is no longer needed
                }
                if (s.segment != null) {
                    spool.delete(s.segment);
                }
                s.copies.forEach(spool::delete);
            }
        }
        return c;
    }

    private void copy(Source s, Cursor c) {
        copying.lock();
        try {
            if (isClosed()) {
                return;
            }
            long seq;
            lock.lock();
            try {
                seq = s.seq;
            } finally {
                lock.unlock();
            }
            if (c != null && c.fileSeq() > seq) {
                return;                      // acknowledged: released at the next round
            }
            long from = c != null && c.fileSeq() == seq ? Math.max(c.offset(), s.start) : s.start;
            long size = size(s.channel);
            String id = s.fileId;
            Spool.Segment seg = null;
            boolean failed = false;
            try {
                if (id == null) {
                    id = FileIdentity.fingerprint(s.channel);
                }
                if (id != null && size > from) {
                    seg = spool.write(info.get(), id, FileIdentity.firstTime(s.channel), s.channel, from, size).segment();
                }
            } catch (IOException e) {
                // logged by the spool and shown on /health until this copy is in or no longer needed; the file stays
                // open and is read as before, and the copy is tried again
                failed = true;
            }
            boolean readOut;
            lock.lock();
            try {
                if (failed) {
                    s.retryAt = nanoTime.getAsLong() + SPOOL_RETRY_NANOS;
                    return;
                }
                s.spooled = true;
                if (seg != null) {
                    s.copies.add(seg);
                }
                readOut = s != readNow;
                s.channelClosed |= readOut && seg != null;
            } finally {
                lock.unlock();
            }
            absentSince.remove(s.key);
            if (seg != null) {
                log.info("{}: {} unacknowledged bytes ({}-{}) of the log file {} copied to the spool: {}", container.get(),
                        size - from, from, size, id, spoolAll ? "the container was removed"
                                : present(s.key) ? "Docker rotated the file" : "Docker deleted the file");
            }
            if (readOut && seg != null) {
                close(s.channel);            // read to its end and safe in the spool: the disk space goes back
            }
        } finally {
            copying.unlock();
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
        long now = System.nanoTime();
        Long since = absentSince.putIfAbsent(key, now);
        return since != null && now - since >= GONE_AFTER_MILLIS * 1_000_000L;
    }

    /**
     * Holds at most {@code limits.held_files_per_container} log files beyond the one being read,
     * and together with all other tailers at most {@code limits.held_bytes_total} unread bytes in
     * them: beyond either, the oldest held file is copied to the spool, its place in the queue
     * taken by the copy, and the file closed (a deleted file's disk space is freed). Without a
     * spool, or when the spool cannot take it, its bytes are reported lost ({@code LOST:},
     * {@code logferry_log_losses_total}, {@code logferry_log_lost_bytes_total}). The newest file is
     * always kept: it is where the container writes. A released file stays known by its
     * fingerprint, so it is not opened again while Docker keeps it.
     */
    private void boundHeld() {
        while (true) {
            List<Upcoming> seen = snapshot();
            long bytes = 0;
            int live = 0;
            Upcoming oldest = null;
            for (Upcoming u : seen) {
                if (u.live() && !spooling.contains(u)) {
                    bytes += size(u.channel());
                    live++;
                    if (oldest == null) {
                        oldest = u;
                    }
                }
            }
            long total;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                if (!new ArrayList<>(upcoming).equals(seen)) {
                    continue;                // the tailer took a file meanwhile: count again
                }
                total = held.update(this, bytes);
                if (live <= 1 || !held.over(this, live) || oldest == seen.get(seen.size() - 1)) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            Upcoming u = oldest;
            int liveNow = live;
            long totalNow = total;
            if (spool == null) {
                release(u, liveNow, totalNow);
            } else {
                onSpoolThread(u, () -> release(u, liveNow, totalNow));
            }
        }
    }

    /**
     * Runs a copy to the spool on the {@code logferry-spool} thread, so that a slow volume (every
     * segment is synced) never delays this thread's opening of new files; {@code what} is marked
     * in progress meanwhile and not offered again.
     */
    private void onSpoolThread(Object what, Runnable copy) {
        if (!spooling.add(what)) {
            return;
        }
        try {
            spooler.execute(() -> {
                try {
                    if (!isClosed()) {
                        copy.run();
                    }
                } catch (RuntimeException e) {
                    log.error("{}: copying to the spool failed", container.get(), e);
                } finally {
                    spooling.remove(what);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            spooling.remove(what);
        }
    }

    /** Moves one held file to the spool (or loses it when there is none that takes it) and closes it. */
    private void release(Upcoming u, int live, long total) {
        long size = size(u.channel());
        Spool.Written w = toSpool(u, size);
        long kept = w == null ? 0 : w.keptUpTo();
        if (!replace(u, w == null ? null : w.segment())) {
            if (w != null && w.segment() != null) {
                spool.delete(w.segment());   // the tailer took the file meanwhile: it reads it itself
            }
            return;
        }
        close(u.channel());
        if (w != null && kept < size) {
            // the spool kept what fit and reported the rest LOST with its range (one count per loss: not again here)
            log.info("{}: a rotated log file (fingerprint {}, first seen as {}) held open unread while the tailer is behind was"
                    + " moved to the spool as far as it had room ({} of {} bytes) to stay within limits.held_*", container.get(),
                    u.fileId(), u.seenAs().getFileName(), kept, size);
            return;
        }
        if (kept >= size) {
            log.info("{}: a rotated log file (fingerprint {}, first seen as {}) held open unread while the tailer is behind was"
                    + " moved to the spool ({} bytes) to stay within limits.held_files_per_container ({}, {} held) and"
                    + " limits.held_bytes_total ({}, {} held by all containers)", container.get(), u.fileId(),
                    u.seenAs().getFileName(), size, held.filesPerContainer(), live, held.bytesTotal(), total);
            return;
        }
        lost.increment();
        lostBytes.add(size - kept);
        if (spool != null) {
            spool.settled(containerId, u.fileId());      // reported lost: no copy of it is wanted any more
        }
        log.warn("LOST: {}: a rotated log file (fingerprint {}, first seen as {}) was held open unread while the tailer was"
                + " behind; released to stay within limits.held_files_per_container ({}, {} held) and its share of"
                + " limits.held_bytes_total ({}, {} held by all containers, {} each): its bytes {}-{} are lost", container.get(), u.fileId(),
                u.seenAs().getFileName(), held.filesPerContainer(), live, held.bytesTotal(), total, held.share(), kept, size);
    }

    /**
     * Every file still waiting that Docker deleted, or all of them once the container is removed,
     * goes to the spool: the copy takes its place in the queue and the file is closed.
     */
    private void spoolWaiting(Set<Object> present) {
        if (spool == null) {
            return;
        }
        for (Upcoming u : snapshot()) {
            if (u.live() && !spooling.contains(u) && !spoolRefused.contains(u.key()) && (spoolAll || gone(u.key(), present))) {
                onSpoolThread(u, () -> {
                    Spool.Written w = toSpool(u, size(u.channel()));
                    absentSince.remove(u.key());
                    if (w != null && w.segment() == null) {
                        // the spool is full: it reported the file LOST once; the tailer still reads it from the open file,
                        // and it is not offered again (which would report it again every round)
                        spoolRefused.add(u.key());
                    }
                    if (w != null && w.segment() != null) {
                        if (replace(u, w.segment())) {
                            close(u.channel());
                        } else {
                            spool.delete(w.segment());
                        }
                    }
                });
            }
        }
    }

    /** Copies the whole unread file to the spool; null when there is no spool or it failed. */
    private Spool.Written toSpool(Upcoming u, long size) {
        if (spool == null || System.nanoTime() < spoolPausedUntil) {
            return null;
        }
        try {
            return spool.write(info.get(), u.fileId(), FileIdentity.firstTime(u.channel()), u.channel(), 0, size);
        } catch (IOException e) {
            spoolPausedUntil = System.nanoTime() + SPOOL_RETRY_NANOS;
            return null;                     // logged by the spool, and reported on /health
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
