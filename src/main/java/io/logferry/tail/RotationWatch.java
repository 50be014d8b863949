package io.logferry.tail;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One daemon thread, {@code logferry-rotation-watch}, that checks every file tailer's
 * {@link RotationChain} every 2 s (ten times a second where inotify does not watch its directory,
 * or while the chain holds rotated files: {@link RotationChain#due}), and a chain at once when
 * inotify reports a file created in its container's directory (Docker's rotation creates the new
 * {@code -json.log}); a file modified there (Docker
 * wrote to the log) wakes the chain's tailer, which otherwise waits up to 2 s for more: it
 * opens the files Docker's rotation created the moment they appear, so that they cannot be deleted
 * unread while a tailer is blocked by backpressure, copies to the spool what Docker deletes while
 * it is unacknowledged, and keeps each chain within {@code limits.held_*} ({@link HeldFiles}):
 * beyond, the oldest held file moves to the spool. This thread owns all the state of each chain
 * it was handed ({@link RotationChain}: its scanner, holder and spooler); tailers only take the
 * files it hands them and post what they did, the {@code logferry-spool} thread only copies and
 * posts the outcome; a chain with posts is checked at the next round. Started with the first
 * tailer; idles when there are none; a chain its tailer closed is dropped once no copy of its
 * files is in flight. Without inotify (a
 * filesystem that has none, or the limit of watches reached) it still looks every 100 ms. When no
 * chain needs rounds it sleeps until the next full round: a creation, a post of a tailer, a copy's
 * outcome and an awaited check wake it, so that an idle agent's watch wakes every 2 s, not ten
 * times a second. One
 * per agent, made and closed by it, with the {@code logferry-spool} thread the chains copy on.
 */
public final class RotationWatch implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RotationWatch.class);
    private static final long INTERVAL_MS = 100;
    /** A chain inotify watches is looked at every this many rounds (2 s); its directory's creations at once. */
    private static final long FULL_ROUND_EVERY = 20;

    private final Set<RotationChain> chains = ConcurrentHashMap.newKeySet();
    private final Map<WatchKey, RotationChain> watched = new ConcurrentHashMap<>();
    /**
     * Guards {@link #thread}, {@link #closed}, {@link #waiting}, {@link #wakeWanted} and the
     * registration of new chains (the tailers' threads, the spool thread's wake-ups, the agent's close).
     */
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private Thread thread;
    private volatile WatchService inotify;
    private boolean closed;
    /**
     * The watch thread is blocked waiting for inotify or the next round, and does no file I/O: only
     * then is it interrupted (to wake it, or to stop it), since an interrupt during I/O on a
     * {@link java.nio.channels.FileChannel} would close the file, possibly under a copy.
     */
    private boolean waiting;
    /** A copy's outcome was posted while the watch was not waiting: the next wait is skipped. */
    private boolean wakeWanted;
    /**
     * One thread, {@code logferry-spool}, for every chain's copies to the spool (each synced): a slow
     * volume never delays the watch's opening of new files. Made at the first copy.
     */
    private final java.util.concurrent.ExecutorService spooler = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "logferry-spool");
        t.setDaemon(true);
        return t;
    });

    /** Made, and closed, by the agent (one per agent; tests make their own). The thread starts with the first chain. */
    public RotationWatch() { }

    /**
     * Where the chains run their copies to the spool: each copy, once it has posted its outcome to
     * its chain, wakes the watch, which applies it at once instead of at the next round.
     */
    java.util.concurrent.Executor spooler() {
        return job -> spooler.execute(() -> {
            try {
                job.run();
            } finally {
                wake();
            }
        });
    }

    /** Any thread: the watch looks again now (at the end of its round, if it is in one). */
    void wake() {
        lock.lock();
        try {
            if (waiting && thread != null) {
                thread.interrupt();
            } else {
                wakeWanted = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The watch thread, before it blocks: false when a wake-up or the close came meanwhile (then it does not block). */
    private boolean beginWait() {
        lock.lock();
        try {
            if (wakeWanted || closed) {
                wakeWanted = false;
                return false;
            }
            waiting = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The watch thread, after it blocked: a wake-up's interrupt is cleared before any file I/O. */
    private void endWait() {
        lock.lock();
        try {
            waiting = false;
            Thread.interrupted();
        } finally {
            lock.unlock();
        }
    }

    private boolean closed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Hands a chain, whose first discovery its tailer has run, to the watch thread, which owns it
     * from now on; a chain refused (the agent is stopping) stays its tailer's.
     */
    void add(RotationChain chain) {
        lock.lock();
        try {
            if (closed) {
                return;                      // the agent is stopping: its tailers are ending
            }
            chain.handedOver(this::wake);
            chains.add(chain);
            if (thread == null) {
                try {
                    inotify = FileSystems.getDefault().newWatchService();
                } catch (IOException | UnsupportedOperationException e) {
                    log.warn("no inotify for log rotation ({}); looking every {} ms", e.getMessage(), INTERVAL_MS);
                }
                thread = new Thread(this, "logferry-rotation-watch");
                thread.setDaemon(true);
                thread.start();
            }
            if (inotify != null) {
                try {
                    watched.put(chain.dir().register(inotify, StandardWatchEventKinds.ENTRY_CREATE,
                            StandardWatchEventKinds.ENTRY_MODIFY), chain);
                    chain.watching();
                } catch (IOException | RuntimeException e) {
                    log.debug("rotation watch: {} not watched ({}); looked at every {} ms", chain.dir(), e.getMessage(), INTERVAL_MS);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the watch thread and the spool thread (a copy in progress is let finish, up to 10 s:
     * interrupting it would leave a half-written segment for the next start to sweep). Once both
     * have ended, the closing thread applies what the chains' tailers and copies posted last, so
     * that the files of the tailers that ended are closed.
     */
    @Override
    public void close() {
        Thread t;
        lock.lock();
        try {
            closed = true;
            t = thread;
            if (t != null && waiting) {
                t.interrupt();               // never during its file I/O: it ends at the end of its round
            }
        } finally {
            lock.unlock();
        }
        WatchService w = inotify;
        if (w != null) {
            try {
                w.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        spooler.shutdown();
        try {
            boolean copiesOver = spooler.awaitTermination(10, TimeUnit.SECONDS);
            if (t != null) {
                t.join(10_000);
            }
            if (copiesOver && (t == null || !t.isAlive())) {
                chains.forEach(RotationChain::settle);   // the watch thread has ended: its chains are this thread's
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        long lastFull = System.nanoTime() - FULL_ROUND_EVERY * INTERVAL_MS * 1_000_000L;
        while (!closed()) {
            // every 2 s, whatever the wake-ups in between
            boolean full = System.nanoTime() - lastFull >= FULL_ROUND_EVERY * INTERVAL_MS * 1_000_000L;
            if (full) {
                lastFull = System.nanoTime();
            }
            chains.removeIf(c -> c.due(full) && !c.check());
            watched.entrySet().removeIf(e -> {
                if (!chains.contains(e.getValue())) {
                    e.getKey().cancel();
                    return true;
                }
                return false;
            });
            // a chain that needs rounds (no inotify, rotated files in hand, posts, a check awaited):
            // 100 ms; otherwise nothing happens without an event (a creation, a post, a copy's
            // outcome, each of which wakes the watch) until the next full round
            boolean fast = chains.stream().anyMatch(c -> c.due(false));
            long untilFull = FULL_ROUND_EVERY * INTERVAL_MS - (System.nanoTime() - lastFull) / 1_000_000L;
            waitForChange(fast ? INTERVAL_MS : Math.max(INTERVAL_MS, untilFull));
        }
    }

    /**
     * Until the next round ({@code millis}: 100 ms, or up to the next full round when no chain
     * needs rounds), during which a chain whose directory got a new file is checked at once; ended
     * early by {@link #wake} (a post or a copy's outcome to apply, a check awaited) or the close.
     */
    private void waitForChange(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        try {
            for (long left = millis; left > 0; left = (deadline - System.nanoTime()) / 1_000_000L) {
                WatchService w = inotify;
                WatchKey k;
                if (!beginWait()) {
                    return;
                }
                try {
                    if (w == null) {
                        Thread.sleep(left);
                        return;
                    }
                    k = w.poll(left, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    return;                  // woken (or closing): the next round looks
                } finally {
                    endWait();
                }
                if (k == null) {
                    return;
                }
                // take every event already there before looking, so that each look counts the creations it covers
                Set<RotationChain> touched = new java.util.LinkedHashSet<>();
                for (; k != null; k = w.poll()) {
                    RotationChain c = watched.get(k);
                    boolean look = false;
                    for (java.nio.file.WatchEvent<?> e : k.pollEvents()) {
                        if (c == null) {
                            continue;
                        }
                        if (e.kind() == StandardWatchEventKinds.ENTRY_MODIFY) {
                            c.modifiedEvent();
                            continue;
                        }
                        if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
                            c.overflow();
                            c.modifiedEvent();
                        } else {
                            c.createdEvent((java.nio.file.Path) e.context());
                        }
                        look = true;
                    }
                    if (!k.reset()) {
                        watched.remove(k);    // the directory is gone (container removed)
                    }
                    if (c != null && look) {
                        touched.add(c);
                    }
                }
                for (RotationChain c : touched) {
                    if (chains.contains(c) && !c.check()) {
                        chains.remove(c);
                    }
                }
            }
        } catch (ClosedWatchServiceException e) {
            inotify = null;                  // closing: the next round ends the thread
        }
    }
}
