package io.logferry.tail;

import io.logferry.model.ContainerInfo;
import io.logferry.model.Cursor;
import io.logferry.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One job of a {@link RotationChain}: deciding what of a container's files is copied to the
 * {@link Spool}, and when; and closing the chain's files, since only this piece knows which one a
 * copy is reading.
 * <ul>
 *   <li>a read file with unacknowledged bytes that Docker deleted, rotated (renamed) more than
 *       {@link #COPY_AFTER_ROTATION_NANOS} ago, or any while acknowledgements stand still that
 *       long, or all once the container is removed: its unacknowledged bytes;</li>
 *   <li>a waiting (unread) file Docker deleted, or all of them once the container is removed, and
 *       the oldest waiting file beyond {@code limits.held_*} ({@link ChainHolder#overLimit}): the
 *       whole file, whose copy then takes its place in the tailer's queue.</li>
 * </ul>
 * A failed copy of a read file is tried again every {@link #RETRY_NANOS}; the spool reports it on
 * {@code /health} until it is in or no longer needed ({@link Spool#settled}).
 *
 * <p>Threads: every field is the watch thread's. The copies run on the agent's
 * {@code logferry-spool} thread ({@code executor}), which only does the I/O (reads the open file,
 * writes and syncs the segment, opens it again) and posts the outcome back through the
 * {@link ChainHandOff} ({@link ChainHandOff.Post.CopyDone}), applied by {@link #done} on the
 * watch thread. A file a copy reads is never closed under it: {@link #close} puts it off until
 * the copy's outcome has been applied.
 */
final class ChainSpooler {
    private static final Logger log = LoggerFactory.getLogger(ChainSpooler.class);

    /**
     * A file Docker rotated (renamed) with bytes the tailer read and the output has not
     * acknowledged is copied to the spool once it has been rotated this long, or at once while
     * the acknowledgements stand still this long (Elasticsearch away or far behind): Docker may
     * delete it while the agent is down, and then only the spool has it. When Elasticsearch keeps
     * up, the bytes are acknowledged within the grace and nothing is copied.
     */
    static final long COPY_AFTER_ROTATION_NANOS = 2_000_000_000L;
    /** After the spool failed, a copy is tried again after this long (one error line per file and 10 s). */
    static final long RETRY_NANOS = 10_000_000_000L;
    /** An open file is deleted once its name is missing from two listings at least this far apart. */
    static final long GONE_AFTER_NANOS = 50_000_000L;

    /** Why a copy is made. */
    private enum Kind { READ, WAITING, BEYOND_LIMIT }

    /** A copy on the spool thread: the file it reads, and what the watch decided with it. */
    private record Flight(FileChannel channel, Kind kind, String reason, int live, long total) { }

    private final String containerId;
    private final Supplier<ContainerInfo> info;
    private final Supplier<String> container;
    /** Null: no spool (tests); released files are then lost. */
    private final Spool spool;
    private final Executor executor;
    private final ChainHandOff handOff;
    private final LongSupplier nanoTime;
    private final LongAdder lost;
    private final LongAdder lostBytes;

    /** The copies on the spool thread now, by what they copy (a Source or an Upcoming). */
    private final Map<Object, Flight> inFlight = new HashMap<>();
    /** Files to close once the copy reading them is over. */
    private final Set<FileChannel> closeAfter = new HashSet<>();
    /** Waiting files the full spool could not take any of (reported lost once by it): not offered again. */
    private final Set<Object> refused = new HashSet<>();
    /** Open files whose name was missing from the last listing, since when (nanoTime). */
    private final Map<Object, Long> absentSince = new HashMap<>();
    /** Read files seen rotated (renamed) with unacknowledged bytes, since when (nanoTime). */
    private final Map<Object, Long> rotatedSince = new HashMap<>();
    /** The committed cursor at the last look, and when it last moved (nanoTime). */
    private Cursor lastAcked;
    private long ackMovedAt;
    /** Waiting files are not offered to the spool before this (nanoTime) after it failed. */
    private long pausedUntil;
    private boolean pausedSet;
    /** The container was removed: everything it holds goes to the spool. */
    private boolean spoolAll;
    /** The tailer closed the chain: copies still in flight are let finish. */
    private boolean closed;

    ChainSpooler(String containerId, Supplier<ContainerInfo> info, Spool spool, Executor executor, ChainHandOff handOff,
                 LongSupplier nanoTime, LongAdder lost, LongAdder lostBytes) {
        this.containerId = containerId;
        this.info = info;
        this.container = () -> info.get().describe();
        this.spool = spool;
        this.executor = executor;
        this.handOff = handOff;
        this.nanoTime = nanoTime;
        this.lost = lost;
        this.lostBytes = lostBytes;
        this.ackMovedAt = nanoTime.getAsLong();
    }

    boolean enabled() {
        return spool != null;
    }

    void spoolAll() {
        spoolAll = true;
    }

    /** Copies in flight, or files seen missing: the chain is looked at every round. */
    boolean busy() {
        return !inFlight.isEmpty() || !absentSince.isEmpty();
    }

    boolean inFlight() {
        return !inFlight.isEmpty();
    }

    /** Whether {@code u} is being copied now (it is then not counted as held). */
    boolean moving(RotationChain.Upcoming u) {
        return inFlight.containsKey(u);
    }

    /** Whether files seen missing wait for a second listing. */
    boolean watchingAbsent() {
        return !absentSince.isEmpty();
    }

    /** Closes {@code ch} now, or once the copy reading it is over. */
    void close(FileChannel ch) {
        for (Flight f : inFlight.values()) {
            if (f.channel() == ch) {
                closeAfter.add(ch);
                return;
            }
        }
        closeQuietly(ch);
    }

    /** The source's bytes are all acknowledged (it was taken out by the holder): its file is closed and its copies deleted. */
    void acknowledged(RotationChain.Source s) {
        close(s.channel);
        if (spool == null) {
            return;
        }
        if (!s.spooled && s.fileId != null && !inFlight.containsKey(s)) {
            spool.settled(containerId, s.fileId);   // a copy that failed is no longer needed
        }
        if (s.segment != null) {
            spool.delete(s.segment);
        }
        s.copies.forEach(spool::delete);
    }

    /** Read sources that are read to their end and safe in the spool: closed, so that the disk space goes back. */
    void closeCopied(List<RotationChain.Source> retained) {
        for (RotationChain.Source r : retained) {
            if (!r.channelClosed && (r.segment != null || !r.copies.isEmpty())) {
                r.channelClosed = true;
                close(r.channel);
            }
        }
    }

    /**
     * Copies to the spool the unacknowledged bytes of every read or being-read file that Docker
     * deleted ({@code present}: the inodes listed this round, null when not listed), rotated
     * ({@code currentKey}: what the log path names) with bytes unacknowledged for
     * {@link #COPY_AFTER_ROTATION_NANOS}, or all of them once the container is removed.
     */
    void protect(List<RotationChain.Source> open, Cursor c, Set<Object> present, Object currentKey) {
        if (spool == null || closed) {
            return;
        }
        long now = nanoTime.getAsLong();
        if (!java.util.Objects.equals(c, lastAcked)) {
            lastAcked = c;
            ackMovedAt = now;
        }
        Set<Object> keys = new HashSet<>();
        for (RotationChain.Source s : open) {
            keys.add(s.key);
            if (s.spooled || s.key == null || inFlight.containsKey(s) || (s.retryAt != 0 && now - s.retryAt < 0)) {
                continue;
            }
            String reason = spoolAll ? "the container was removed" : gone(s.key, present, now) ? "Docker deleted the file"
                    : rotatedUnacknowledged(s, c, now, currentKey) ? "Docker rotated the file" : null;
            if (reason != null) {
                copyRead(s, c, reason);
            }
        }
        rotatedSince.keySet().retainAll(keys);
    }

    /**
     * Whether {@code s} was rotated (the log path names another file) with bytes not acknowledged,
     * for {@link #COPY_AFTER_ROTATION_NANOS}, or while acknowledgements stood still that long.
     */
    private boolean rotatedUnacknowledged(RotationChain.Source s, Cursor c, long now, Object currentKey) {
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
     * Whether the open file {@code key} was deleted: its name is missing from two listings at
     * least {@link #GONE_AFTER_NANOS} apart (a listing taken while Docker renames files may miss a
     * name for a moment; a deleted file never comes back).
     */
    private boolean gone(Object key, Set<Object> present, long now) {
        if (present == null) {
            return false;                    // not looked: nothing rotated since the last look
        }
        if (present.contains(key)) {
            absentSince.remove(key);
            return false;
        }
        Long since = absentSince.putIfAbsent(key, now);
        return since != null && now - since >= GONE_AFTER_NANOS;
    }

    private void copyRead(RotationChain.Source s, Cursor c, String reason) {
        long seq = s.seq;
        long from = c != null && c.fileSeq() == seq ? Math.max(c.offset(), s.start) : s.start;
        FileChannel ch = s.channel;
        String fileId = s.fileId;
        ContainerInfo container = info.get();
        submit(s, new Flight(ch, Kind.READ, reason, 0, 0), () -> {
            long size = size(ch);
            String id = fileId != null ? fileId : FileIdentity.fingerprint(ch);
            if (id == null || size <= from) {
                return new Result(new Spool.Written(null, size), size, null);
            }
            return new Result(spool.write(container, id, FileIdentity.firstTime(ch), ch, from, size), size, null);
        });
    }

    /**
     * Every waiting file Docker deleted, or all of them once the container is removed, goes to
     * the spool: the copy takes its place in the tailer's queue and the file is closed.
     */
    void spoolWaiting(List<RotationChain.Upcoming> waiting, Set<Object> present) {
        if (spool == null || closed) {
            return;
        }
        long now = nanoTime.getAsLong();
        for (RotationChain.Upcoming u : waiting) {
            if (u.live() && !inFlight.containsKey(u) && !refused.contains(u.key()) && (spoolAll || gone(u.key(), present, now))
                    && !paused(now)) {
                copyWaiting(u, new Flight(u.channel(), Kind.WAITING, null, 0, 0));
            }
        }
    }

    /**
     * The oldest waiting file is beyond {@code limits.held_*}: it is copied to the spool, its
     * place in the queue taken by the copy, and the file closed (a deleted file's disk space is
     * freed). Without a spool, or when the spool cannot take it, its bytes are reported lost
     * ({@code LOST:}, {@code logferry_log_losses_total}, {@code logferry_log_lost_bytes_total}).
     * A released file stays known by its fingerprint, so it is not opened again while Docker keeps it.
     */
    void moveBeyondLimit(ChainHolder.Over o, HeldFiles held) {
        Flight f = new Flight(o.oldest().channel(), Kind.BEYOND_LIMIT, null, o.live(), o.total());
        if (spool == null || paused(nanoTime.getAsLong())) {
            released(o.oldest(), f, null, size(o.oldest().channel()), null, held);
            return;
        }
        copyWaiting(o.oldest(), f);
    }

    private boolean paused(long now) {
        return pausedSet && now - pausedUntil < 0;
    }

    private void copyWaiting(RotationChain.Upcoming u, Flight f) {
        ContainerInfo container = info.get();
        submit(u, f, () -> {
            long size = size(u.channel());
            Spool.Written w = spool.write(container, u.fileId(), FileIdentity.firstTime(u.channel()), u.channel(), 0, size);
            FileChannel copy = null;
            if (w.segment() != null) {
                try {
                    copy = FileChannel.open(w.segment().path(), StandardOpenOption.READ);
                } catch (IOException e) {
                    log.error("{}: the spool segment {} cannot be opened again: {}", container.describe(), w.segment().path(),
                            e.toString());
                    spool.delete(w.segment());
                    throw e;
                }
            }
            return new Result(w, size, copy);
        });
    }

    private record Result(Spool.Written written, long size, FileChannel copy) { }

    private interface Io {
        Result run() throws IOException;
    }

    /** Runs {@code io} on the spool thread; its outcome is posted back. */
    private void submit(Object what, Flight f, Io io) {
        inFlight.put(what, f);
        try {
            executor.execute(() -> {
                if (handOff.closed()) {
                    handOff.post(new ChainHandOff.Post.CopyDone(what, ChainHandOff.Outcome.NOT_TRIED, null, 0, null));
                    return;
                }
                ChainHandOff.Post done;
                try {
                    Result r = io.run();
                    done = new ChainHandOff.Post.CopyDone(what, ChainHandOff.Outcome.COPIED, r.written(), r.size(), r.copy());
                } catch (IOException e) {
                    // logged by the spool, and shown on /health until this copy is in or no longer needed
                    done = new ChainHandOff.Post.CopyDone(what, ChainHandOff.Outcome.FAILED, null, 0, null);
                } catch (RuntimeException e) {
                    log.error("{}: copying to the spool failed", containerId, e);
                    done = new ChainHandOff.Post.CopyDone(what, ChainHandOff.Outcome.FAILED, null, 0, null);
                }
                handOff.post(done);
            });
        } catch (RejectedExecutionException e) {
            inFlight.remove(what);           // the agent is stopping
        }
    }

    /**
     * The watch thread: applies the outcome of a copy ({@code readNow}: the source the tailer reads
     * now, which stays open; {@code acked} the committed cursor).
     */
    void done(ChainHandOff.Post.CopyDone d, RotationChain.Source readNow, HeldFiles held) {
        Flight f = inFlight.remove(d.what());
        if (f == null) {
            return;
        }
        boolean failed = d.outcome() == ChainHandOff.Outcome.FAILED;
        if (failed && f.kind() != Kind.READ) {
            pausedUntil = nanoTime.getAsLong() + RETRY_NANOS;
            pausedSet = true;
        }
        switch (f.kind()) {
            case READ -> readDone((RotationChain.Source) d.what(), f, d, readNow);
            case WAITING -> waitingDone((RotationChain.Upcoming) d.what(), d);
            case BEYOND_LIMIT -> {
                if (d.outcome() == ChainHandOff.Outcome.NOT_TRIED) {
                    break;
                }
                released((RotationChain.Upcoming) d.what(), f, d.written(), failed ? size(f.channel()) : d.size(), d.copy(), held);
            }
        }
        if (closeAfter.remove(f.channel())) {
            close(f.channel());
        }
    }

    private void readDone(RotationChain.Source s, Flight f, ChainHandOff.Post.CopyDone d, RotationChain.Source readNow) {
        if (d.outcome() != ChainHandOff.Outcome.COPIED) {
            if (s.acknowledged || closed) {
                if (s.fileId != null && !s.spooled) {
                    spool.settled(containerId, s.fileId);   // no copy of it is wanted any more
                }
            } else if (d.outcome() == ChainHandOff.Outcome.FAILED) {
                s.retryAt = nanoTime.getAsLong() + RETRY_NANOS;   // the file stays open and is read as before
            }
            return;
        }
        Spool.Segment seg = d.written().segment();
        if (s.acknowledged) {
            if (seg != null) {
                spool.delete(seg);           // acknowledged while it was copied: not needed
            }
            return;
        }
        s.spooled = true;
        absentSince.remove(s.key);
        if (seg == null) {
            return;
        }
        s.copies.add(seg);
        log.info("{}: {} unacknowledged bytes ({}-{}) of the log file {} copied to the spool: {}", container.get(),
                seg.end() - seg.base(), seg.base(), seg.end(), seg.fileId(), f.reason());
        if (s != readNow && !s.channelClosed) {
            s.channelClosed = true;
            closeAfter.add(s.channel);       // read to its end and safe in the spool: the disk space goes back
        }
    }

    private void waitingDone(RotationChain.Upcoming u, ChainHandOff.Post.CopyDone d) {
        absentSince.remove(u.key());
        Spool.Written w = d.written();
        if (w == null) {
            return;
        }
        if (w.segment() == null) {
            // the spool is full: it reported the file LOST once; the tailer still reads it from the open file,
            // and it is not offered again (which would report it again every round)
            refused.add(u.key());
            return;
        }
        if (!handOff.replace(u, new RotationChain.Upcoming(d.copy(), u.key(), u.fileId(), u.seenAs(), w.segment()))) {
            closeQuietly(d.copy());
            spool.delete(w.segment());       // the tailer took the file meanwhile: it reads it itself
            return;
        }
        closeAfter.add(u.channel());
    }

    /** Moves one held file to the spool as far as {@code w} took it (or loses it) and closes it. */
    private void released(RotationChain.Upcoming u, Flight f, Spool.Written w, long size, FileChannel copy, HeldFiles held) {
        long kept = w == null ? 0 : w.keptUpTo();
        Spool.Segment seg = w == null ? null : w.segment();
        RotationChain.Upcoming replacement = seg == null ? null : new RotationChain.Upcoming(copy, u.key(), u.fileId(), u.seenAs(), seg);
        if (!handOff.replace(u, replacement)) {
            if (seg != null) {
                closeQuietly(copy);
                spool.delete(seg);           // the tailer took the file meanwhile: it reads it itself
            }
            return;
        }
        if (inFlight.containsKey(u)) {
            closeAfter.add(u.channel());
        } else {
            closeAfter.remove(u.channel());
            close(u.channel());
        }
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
                    u.seenAs().getFileName(), size, held.filesPerContainer(), f.live(), held.bytesTotal(), f.total());
            return;
        }
        lost.increment();
        lostBytes.add(size - kept);
        if (spool != null) {
            spool.settled(containerId, u.fileId());      // reported lost: no copy of it is wanted any more
        }
        log.warn("LOST: {}: a rotated log file (fingerprint {}, first seen as {}) was held open unread while the tailer was"
                + " behind; released to stay within limits.held_files_per_container ({}, {} held) and its share of"
                + " limits.held_bytes_total ({}, {} held by all containers, {} each): its bytes {}-{} are lost", container.get(),
                u.fileId(), u.seenAs().getFileName(), held.filesPerContainer(), f.live(), held.bytesTotal(), f.total(),
                held.share(), kept, size);
    }

    /**
     * The tailer closed the chain: its files are closed (a file under a copy once the copy is
     * over), and a read file without a copy needs none any more. A copy that is over keeps its
     * segment: the next start resumes from it.
     */
    void closed(List<RotationChain.Upcoming> waiting, List<RotationChain.Source> read) {
        closed = true;
        waiting.forEach(u -> close(u.channel()));
        for (RotationChain.Source r : read) {
            close(r.channel);
            if (spool != null && !r.spooled && r.fileId != null && !inFlight.containsKey(r)) {
                spool.settled(containerId, r.fileId);   // the tailer ended: no copy of it is wanted
            }
        }
    }

    /** Whether a read file or a waiting one holds bytes neither acknowledged nor in the spool (any copy in flight counts). */
    boolean unspooled(List<RotationChain.Source> open) {
        if (spool == null) {
            return false;
        }
        if (!inFlight.isEmpty()) {
            return true;
        }
        for (RotationChain.Source r : open) {
            if (!r.spooled && r.key != null) {
                return true;
            }
        }
        return false;
    }

    private static long size(FileChannel ch) {
        try {
            return ch.size();
        } catch (IOException e) {
            return 0;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a read-only file
        }
    }
}
