package io.logferry.tail;

import io.logferry.model.ContainerInfo;
import io.logferry.model.Cursor;
import io.logferry.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One container's chain of json-file logs ({@code -json.log.N} ... {@code -json.log.1},
 * {@code -json.log}): the files newer than the one being read, opened as soon as they are seen so
 * that Docker's rotation cannot delete them unread and handed to the {@link FileTailer} oldest
 * first; the files read and not yet acknowledged, kept open; and what of them goes to the spool.
 * Owned the way the {@code ControlLoop} owns the container map: one thread, the
 * {@link RotationWatch}'s, touches its state; the other threads post.
 *
 * <pre>
 *   tailer thread ── opened / copy-of / renumbered / spool-all / closed ──┐
 *   logferry-spool ── copy done (copied, failed, not tried) ──────────────┤  ChainHandOff (ReentrantLock):
 *                                                                          ▼  posts in, waiting files out
 *   logferry-rotation-watch, each {@link #check}: applies the posts, then
 *     ChainScanner  ── list, open, fingerprint ── newer files ──► hand-off queue ──take──► tailer
 *     ChainHolder   ── read files released once acknowledged; limits.held_* names the oldest waiting file
 *     ChainSpooler  ── decides the copies (deleted, rotated and unacknowledged, removed container, beyond
 *                      limits.held_*) ──► logferry-spool (I/O only) ──► posts its outcome back
 * </pre>
 *
 * <p>Invariant: every byte the tailer has read and not seen acknowledged is in a file the chain
 * holds open, or in the spool, or (once Docker deleted it and before the copy is synced: 50 ms
 * to confirm the deletion, then the copy) only in the open file. A file a copy reads is closed
 * only once the copy's outcome is applied (the watch thread both decides copies and closes
 * files), so no copy ever reads a closed file.
 *
 * <p>Before {@link RotationWatch#add} the tailer's thread builds the chain and runs its first
 * discovery ({@link #start}, {@link #startEarly}, {@link #startQueued}); from then on the watch's
 * thread alone. A chain the watch never took is closed on the tailer's thread.
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
     * Made by the tailer, posted to the watch ({@link #opened}); from then on the watch thread's.
     */
    static final class Source {
        long seq;
        final FileChannel channel;
        final Object key;
        final String fileId;
        final Spool.Segment segment;
        final long start;
        /** Its unacknowledged bytes are in the spool (or there were none to copy). */
        boolean spooled;
        /** The copy holds its bytes and the file is closed. */
        boolean channelClosed;
        /** Taken out by the holder: its bytes are all acknowledged. */
        boolean acknowledged;
        /** When a failed copy is tried again (nanoTime; 0: not failed). */
        long retryAt;
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
    private final Supplier<String> container;
    /** The container's committed cursor (its acknowledgement tracker's). */
    private final Supplier<Cursor> acked;
    private final ChainHandOff handOff = new ChainHandOff();
    private final ChainScanner scanner;
    private final ChainHolder holder;
    private final ChainSpooler spooler;

    /** Watch thread: the tailer's close was applied. */
    private boolean closed;
    /** Tailer thread: the watch took the chain ({@link RotationWatch#add}); before, and if never, the tailer owns it. */
    private boolean handedOver;
    /**
     * Set when the watch takes the chain: wakes it, so that a post (and an {@link #awaitCheck}) is
     * applied at once even while the watch sleeps until its next full round (any thread).
     */
    private volatile Runnable wake = () -> { };
    /** Published by the watch after each look: {@link ChainSpooler#unspooled}. */
    private volatile boolean unspooledNow;
    /** Watch rounds completed, for {@link #awaitCheck}. */
    private final AtomicLong checks = new AtomicLong();
    /** Set by {@link #awaitCheck}: the watch checks this chain every round until {@link #checks} reaches it. */
    private volatile long checksWanted;
    /** The tailer's thread, parked while its file does not grow; null before it follows. */
    private volatile Thread tailer;

    /**
     * @param info describes the container in log lines and the spool (it may be renamed)
     * @param lost, lostBytes the container's loss counters
     * @param spool null: none (tests); released files are then lost
     * @param spooler the agent's spool thread ({@link RotationWatch#spooler})
     */
    RotationChain(Path dir, String containerId, Supplier<ContainerInfo> info, Supplier<Cursor> acked, HeldFiles held, Spool spool,
                  Executor spooler, LongAdder lost, LongAdder lostBytes) {
        this(dir, containerId, info, acked, held, spool, spooler, lost, lostBytes, System::nanoTime);
    }

    /** @param nanoTime the clock of the spool's graces and retries (tests turn it by hand) */
    RotationChain(Path dir, String containerId, Supplier<ContainerInfo> info, Supplier<Cursor> acked, HeldFiles held, Spool spool,
                  Executor spooler, LongAdder lost, LongAdder lostBytes, LongSupplier nanoTime) {
        this.dir = dir;
        this.containerId = containerId;
        this.container = () -> info.get().describe();
        this.acked = acked;
        this.scanner = new ChainScanner(dir, containerId, handOff, lost, container);
        this.holder = new ChainHolder(held, this);
        this.spooler = new ChainSpooler(containerId, info, spool, spooler, handOff, nanoTime, lost, lostBytes);
    }

    // ---- the tailer's thread: start (before the watch takes the chain), then only posts and takes ----

    /**
     * On the tailer's thread, before {@link RotationWatch#add}: the tailer reads the file
     * {@code key} (fingerprint {@code fileId}, null while it has no complete line); the files
     * {@code older} than it are accounted for; the newer ones are opened and queued.
     */
    void start(List<Path> older, Object key, String fileId) throws IOException {
        scanner.start(older, key, fileId);
    }

    /**
     * On the tailer's thread before {@link RotationWatch#add}: the tailer reads the prefetched
     * first file {@code key} from its start; {@code newer} are the files Docker created after it
     * before the tailer came, held open by the prefetcher, oldest first.
     */
    void startEarly(Object key, List<Upcoming> newer) throws IOException {
        handOff.offer(newer);
        scanner.startEarly(key, newer);
    }

    /**
     * On the tailer's thread before {@link RotationWatch#add}, when it resumes from the spool:
     * {@code queued} are the sources to read after the one it opened (spooled copies and log files,
     * oldest first); {@code live} the log files among them and before them; {@code newest} the
     * newest of them (null when the container's files are gone).
     */
    void startQueued(List<Upcoming> queued, Map<Object, String> live, Object newest, Object readingKey) {
        scanner.startQueued(live, newest, readingKey);
        handOff.offer(queued);
    }

    /** The tailer opened {@code s} and reads it now: the source it read before is retained until acknowledged. */
    void opened(Source s) {
        handOff.post(new ChainHandOff.Post.Opened(s));
        wake.run();
    }

    /** The tailer: {@code seg} is a spooled copy of the source it reads now, deleted with it once acknowledged. */
    void copied(Spool.Segment seg) {
        handOff.post(new ChainHandOff.Post.CopyOf(seg));
        wake.run();
    }

    /** The tailer reads the same file again from offset 0 (truncated in place) under a new sequence number. */
    void renumber(long seq) {
        handOff.post(new ChainHandOff.Post.Renumbered(seq));
        wake.run();
    }

    /** The tailer: its container was removed; the watch copies every file it holds to the spool. */
    void spoolAll() {
        handOff.post(new ChainHandOff.Post.SpoolAll());
        wake.run();
    }

    /** The tailer: whether a newer file waits. */
    boolean hasNext() {
        return handOff.hasNext();
    }

    /** The tailer: the oldest file waiting, now the one it reads; null when none. */
    Upcoming next() {
        return handOff.take();
    }

    /** Log files held open beyond the one being read (their spooled copies not counted); any thread. */
    int heldCount() {
        return (int) handOff.snapshot().stream().filter(Upcoming::live).count();
    }

    /** Unread bytes of the files (and spooled copies) waiting beyond the one being read (any thread). */
    long heldBytes() throws IOException {
        long total = 0;
        for (Upcoming u : handOff.snapshot()) {
            total += u.live() ? u.channel().size() : u.segment().length();
        }
        return total;
    }

    /**
     * The tailer of a removed container, before it ends: whether bytes it holds are neither
     * acknowledged nor in the spool yet (a read file not copied, a copy in flight or failed and to
     * be tried again, a waiting file still live, or news the watch has not applied yet). Closing
     * the chain then would leave them only in the queue, which a crash loses.
     */
    boolean unspooled() {
        if (!spooler.enabled()) {
            return false;
        }
        return unspooledNow || handOff.hasPosts() || handOff.snapshot().stream().anyMatch(Upcoming::live);
    }

    /** The tailer ends: the watch closes the chain's files (a file under a copy once the copy is over) and drops it. */
    void close() {
        handOff.post(new ChainHandOff.Post.Closed());
        wake.run();
        if (!handedOver) {
            check();                         // the watch never took it: this thread still owns it
        }
    }

    /** The tailer's thread, in {@link RotationWatch#add}: the watch's thread owns the chain from now on. */
    void handedOver(Runnable wake) {
        handedOver = true;
        this.wake = wake;
    }

    /**
     * The tailer, before it decides that the container's logs are read to their end: waits
     * (at most {@code timeoutMillis}) for a whole check that started after this call, so that a
     * rotation just before the container stopped is not missed.
     */
    void awaitCheck(long timeoutMillis) throws InterruptedException {
        long target = checks.get() + 2;
        checksWanted = target;
        wake.run();
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (checks.get() < target && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** The tailer's thread, once it follows the file: {@link #modifiedEvent} unparks it. */
    void wakes(Thread tailer) {
        this.tailer = tailer;
    }

    /** Whether inotify watches the directory: then the tailer may wait longer, since {@link #modifiedEvent} wakes it. */
    boolean watched() {
        return scanner.watched();
    }

    /** The container's log directory. */
    Path dir() {
        return dir;
    }

    /** The container's log files, oldest first: {@code -json.log.N} ... {@code -json.log.1}, then {@code -json.log}. */
    List<Path> files() {
        return ChainScanner.files(dir, containerId);
    }

    /** {@link #files()} of any container's directory. */
    static List<Path> files(Path dir, String containerId) {
        return ChainScanner.files(dir, containerId);
    }

    /** The rotated files {@code -json.log.N}, highest N first ({@link ChainScanner#rotatedOldestFirst}). */
    List<Path> rotatedOldestFirst() {
        return ChainScanner.rotatedOldestFirst(dir, containerId);
    }

    // ---- the watch thread ----

    /** The watch thread: inotify watches the directory from now on (its creations are counted). */
    void watching() {
        scanner.watching();
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
        scanner.createdEvent(name);
    }

    /** The watch thread: inotify lost events; the next look cannot count creations. */
    void overflow() {
        scanner.overflow();
    }

    /**
     * The watch thread, each round: whether this chain is checked in it. A chain inotify watches is
     * checked at once on each creation in its directory, so the periodic look is only every
     * {@code fullRound}; one without inotify, one whose tailer {@link #awaitCheck waits} for a
     * check, one with posts to apply (a copy's outcome, the tailer's close), or one holding
     * rotated files, every round.
     */
    boolean due(boolean fullRound) {
        return fullRound || !scanner.watched() || checks.get() < checksWanted || handOff.hasPosts() || holding();
    }

    /**
     * Whether the chain has rotated files in hand (read and not all acknowledged, or not read yet),
     * copies to the spool in progress, or files seen deleted: then every round, so that a file
     * Docker deleted while held moves to the spool and is let go as fast as before. An idle
     * container's chain holds none.
     */
    private boolean holding() {
        return spooler.busy() || holder.holding() || handOff.hasNext();
    }

    /**
     * The watch thread, every round (and the tailer's, for a chain the watch never took): applies
     * what was posted, then looks. False once the tailer closed the chain and no copy is in flight:
     * the watch drops it.
     */
    boolean check() {
        applyPosts();
        try {
            if (!closed) {
                boolean rotated = scanner.discoverIfRotated();
                boundHeld();
                // Docker deletes files only when it rotates (or removes the container): list the directory only then
                Set<Object> present = spooler.enabled() && (rotated || spooler.watchingAbsent()) ? scanner.presentKeys() : null;
                releaseAcknowledged();
                spooler.closeCopied(holder.retained());
                spooler.protect(holder.open(), acked.get(), present, scanner.currentKey());
                spooler.spoolWaiting(handOff.snapshot(), present);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("{}: rotation check failed: {}", container.get(), e.getMessage());
        }
        unspooledNow = spooler.unspooled(holder.open());
        checks.incrementAndGet();
        return !closed || spooler.inFlight();
    }

    /** Once the watch has stopped (on the thread that stopped it): applies what was posted, without looking. */
    void settle() {
        applyPosts();
    }

    /** Applies every post in order; one that fails is logged and the others still apply. */
    private void applyPosts() {
        for (ChainHandOff.Post p : handOff.drain()) {
            try {
                apply(p);
            } catch (RuntimeException e) {
                log.error("{}: applying {} to the rotation chain failed", container.get(), p.getClass().getSimpleName(), e);
            }
        }
    }

    private void apply(ChainHandOff.Post p) {
        switch (p) {
            case ChainHandOff.Post.Opened o -> holder.opened(o.source());
            case ChainHandOff.Post.CopyOf c -> {
                if (holder.readNow() != null) {
                    holder.readNow().copies.add(c.segment());
                }
            }
            case ChainHandOff.Post.Renumbered r -> holder.renumber(r.seq());
            case ChainHandOff.Post.SpoolAll s -> spooler.spoolAll();
            case ChainHandOff.Post.CopyDone d -> spooler.done(d, holder.readNow(), holder.limits());
            case ChainHandOff.Post.Closed c -> {
                if (!closed) {
                    closed = true;
                    releaseAcknowledged();   // what is acknowledged by now lets go of its spooled copies
                    spooler.closed(handOff.clear(), holder.clear());
                    holder.forget();
                }
            }
        }
    }

    /** Closes the read sources whose bytes are all acknowledged and deletes their spooled copies. */
    private void releaseAcknowledged() {
        for (Source s : holder.acknowledged(acked.get())) {
            spooler.acknowledged(s);
        }
    }

    /** While beyond {@code limits.held_*}, the oldest waiting file moves to the spool (or is lost without one that takes it). */
    private void boundHeld() {
        while (!handOff.closed()) {
            ChainHolder.Over o = holder.overLimit(handOff.snapshot(), spooler::moving);
            if (o == null) {
                return;
            }
            spooler.moveBeyondLimit(o, holder.limits());
        }
    }
}
