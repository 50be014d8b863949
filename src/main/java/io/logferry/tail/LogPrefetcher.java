package io.logferry.tail;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Opens each new container's json-file the moment Docker creates it (inotify on the containers
 * directory and on each new container's directory), before discovery has even heard of the
 * container. A container that prints and is removed within milliseconds ({@code --rm}) deletes
 * its directory with its log; a file opened here stays readable, and its tailer adopts it.
 * The files Docker creates after the first one (rotation, before the tailer starts) are opened
 * too, up to {@value #MAX_NEWER} of them, and handed over with it. Files nobody adopts
 * (containers not selected) are closed after {@link #TTL_NANOS}.
 */
public final class LogPrefetcher implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogPrefetcher.class);
    static final long TTL_NANOS = 60_000_000_000L;

    /** Newer files held beyond a container's first, before its tailer adopts them: the oldest is closed beyond. */
    static final int MAX_NEWER = 16;

    /**
     * An open log file waiting for its tailer, and the files Docker created after it (rotation),
     * oldest first, open too: {@code newer}, which the prefetch thread adds to until the tailer
     * takes them ({@link Newer#takeAll}).
     */
    public record Held(FileChannel channel, Object key, long openedAt, Newer newer, int firstLook,
                       java.util.concurrent.atomic.AtomicInteger gaps) {
        /**
         * How many times a look may have missed a file of the chain: the newest file held was gone
         * from the directory when new ones were found (Docker rotated through {@code max-file}
         * between two looks), a look could not open every name, or more than {@value #MAX_NEWER}
         * newer files were waiting. The tailer reports these as possible losses.
         */
        public int gapCount() {
            return gaps.get();
        }
    }

    /**
     * The hand-off of a container's newer files from the prefetch thread (which adds what each look
     * finds) to the tailer (which takes them all, once; later looks' files are then closed).
     * Guarded by a {@link ReentrantLock}, held only while the list changes, never during file I/O
     * other than closing a file dropped beyond {@value #MAX_NEWER}.
     */
    public static final class Newer {
        private final ReentrantLock lock = new ReentrantLock();
        private final List<FileIdentity.Opened> files;
        private boolean taken;

        Newer(List<FileIdentity.Opened> files) {
            this.files = new ArrayList<>(files);
        }

        /** The tailer: every newer file held, oldest first; from now on nothing is added. */
        List<FileIdentity.Opened> takeAll() {
            lock.lock();
            try {
                taken = true;
                List<FileIdentity.Opened> out = new ArrayList<>(files);
                files.clear();
                return out;
            } finally {
                lock.unlock();
            }
        }

        /** A copy of what is held now (tests). */
        List<FileIdentity.Opened> peek() {
            lock.lock();
            try {
                return new ArrayList<>(files);
            } finally {
                lock.unlock();
            }
        }

        /**
         * The prefetch thread: adds the files of a look not held yet ({@code first}: the container's
         * first file); counts a gap in {@code gaps} when the newest held file was gone from a look
         * that found new ones, or the look was incomplete, or more than {@value #MAX_NEWER} wait.
         * Files not kept are closed, all of them once the tailer took the list.
         */
        void add(Object first, List<FileIdentity.Opened> look, boolean complete, java.util.concurrent.atomic.AtomicInteger gaps) {
            List<FileIdentity.Opened> toClose = new ArrayList<>();
            lock.lock();
            try {
                if (taken) {
                    toClose.addAll(look);    // taken meanwhile: its chain looks from now on
                } else {
                    Object newest = files.isEmpty() ? first : files.get(files.size() - 1).key();
                    boolean newestThere = false;
                    boolean added = false;
                    for (FileIdentity.Opened o : look) {
                        boolean known = o.key().equals(first) || files.stream().anyMatch(n -> n.key().equals(o.key()));
                        if (known) {
                            newestThere |= o.key().equals(newest);
                            toClose.add(o);
                            continue;
                        }
                        files.add(o);
                        added = true;
                        if (files.size() > MAX_NEWER) {
                            toClose.add(files.remove(0));
                            gaps.incrementAndGet();
                        }
                    }
                    if ((added && !newestThere) || !complete) {
                        gaps.incrementAndGet();
                    }
                }
            } finally {
                lock.unlock();
            }
            toClose.forEach(o -> closeQuietly(o.channel()));
        }

        /** Closes every newer file held (expired, or the prefetcher closes). */
        void closeAll() {
            takeAll().forEach(o -> closeQuietly(o.channel()));
        }
    }

    private final Path containers;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    /** The watch on each new container's directory, until its tailer adopts the files (then the rotation watch looks). */
    private final Map<String, WatchKey> dirs = new ConcurrentHashMap<>();
    private WatchService watch;
    private Thread thread;

    public LogPrefetcher(Path containers) {
        this.containers = containers;
    }

    public void start() {
        try {
            watch = containers.getFileSystem().newWatchService();
            containers.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
        } catch (IOException | RuntimeException e) {
            log.info("no early open of new containers' logs ({}: {}); discovery opens them", containers, e.getMessage());
            return;
        }
        thread = new Thread(this, "logferry-log-prefetch");
        thread.setDaemon(true);
        thread.start();
    }

    /** The held first log file of a container, handed over once; null when there is none. */
    public Held take(String containerId) {
        WatchKey k = dirs.remove(containerId);
        if (k != null) {
            k.cancel();                          // from now on its tailer's rotation watch opens its new files
        }
        return held.remove(containerId);
    }

    /** The held files of a container without taking them (tests). */
    Held peek(String containerId) {
        return held.get(containerId);
    }

    /** Files opened and not handed over yet. */
    int heldCount() {
        return held.size();
    }

    @Override
    public void run() {
        try {
            while (true) {
                WatchKey k = watch.poll(5, java.util.concurrent.TimeUnit.SECONDS);
                expire(System.nanoTime());
                if (k == null) {
                    continue;
                }
                Path dir = (Path) k.watchable();
                for (WatchEvent<?> e : k.pollEvents()) {
                    if (e.kind() != StandardWatchEventKinds.ENTRY_CREATE) {
                        continue;
                    }
                    Path name = (Path) e.context();
                    if (dir.equals(containers)) {
                        newContainerDir(containers.resolve(name));
                    } else {
                        String id = dir.getFileName().toString();
                        if (name.toString().equals(id + "-json.log")) {
                            hold(id, dir);
                        }
                    }
                }
                if (!k.reset() && !dir.equals(containers)) {
                    k.cancel();                  // the container's directory is gone
                    dirs.values().remove(k);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void newContainerDir(Path dir) {
        String id = dir.getFileName().toString();
        if (!id.matches("[0-9a-f]{64}")) {
            return;
        }
        try {
            dirs.put(id, dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE));
        } catch (IOException | RuntimeException e) {
            return;                              // removed already
        }
        if (Files.exists(dir.resolve(id + "-json.log"))) {   // created before the watch was in place
            hold(id, dir);
        }
    }

    /**
     * Docker created a {@code -json.log} in the container's directory. By the time this thread
     * looks, Docker may have rotated again (the file the event was for is {@code -json.log.1} now,
     * and the path names a newer one), so every file of the chain is looked at, oldest first, and
     * each one not held yet is opened: the first look holds the oldest as the container's first
     * file, later ones add what is new to {@code newer}.
     */
    private void hold(String id, Path dir) {
        if (!dirs.containsKey(id)) {
            return;                              // adopted by its tailer (or expired)
        }
        Look look = openChain(dir, id);
        if (look.files.isEmpty()) {
            return;
        }
        Held h = held.get(id);
        if (h == null) {
            FileIdentity.Opened oldest = look.files.get(0);
            Held fresh = new Held(oldest.channel(), oldest.key(), System.nanoTime(),
                    new Newer(look.files.subList(1, look.files.size())), look.files.size(),
                    new java.util.concurrent.atomic.AtomicInteger(look.complete ? 0 : 1));
            if (held.putIfAbsent(id, fresh) != null) {
                look.files.forEach(o -> closeQuietly(o.channel()));
            }
            return;
        }
        if (!held.containsValue(h)) {            // taken meanwhile: its chain looks from now on
            look.files.forEach(o -> closeQuietly(o.channel()));
            return;
        }
        h.newer().add(h.key(), look.files, look.complete, h.gaps());
    }

    /** The files of one look at a container's chain, oldest first; {@code complete}: every name was opened. */
    private record Look(List<FileIdentity.Opened> files, boolean complete) { }

    private static final int LOOK_ATTEMPTS = 5;

    /**
     * Opens every file of the chain, oldest first. A look taken while Docker renames files can
     * miss a name or see one file under two: it is taken again (a few times), then accepted as
     * incomplete.
     */
    private static Look openChain(Path dir, String id) {
        for (int attempt = 1; ; attempt++) {
            List<Path> names = RotationChain.files(dir, id);
            List<FileIdentity.Opened> files = new ArrayList<>();
            java.util.Set<Object> keys = new java.util.HashSet<>();
            boolean complete = true;
            for (Path p : names) {
                FileIdentity.Opened o;
                try {
                    o = FileIdentity.openStable(p);
                } catch (IOException e) {
                    o = null;
                }
                if (o == null || !keys.add(o.key())) {
                    complete = false;
                    if (o != null) {
                        closeQuietly(o.channel());
                    }
                    continue;
                }
                files.add(o);
            }
            // the same names, naming the same files, after the look: no rename happened during it
            complete = complete && names.equals(RotationChain.files(dir, id));
            for (int i = 0; complete && i < names.size(); i++) {
                complete = files.get(i).key().equals(FileIdentity.key(names.get(i)));
            }
            if (complete || attempt == LOOK_ATTEMPTS) {
                return new Look(files, complete);
            }
            files.forEach(o -> closeQuietly(o.channel()));
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only
        }
    }

    /** Closes the files held longer than {@link #TTL_NANOS} at {@code now}. */
    void expire(long now) {
        held.entrySet().removeIf(e -> {
            if (now - e.getValue().openedAt() > TTL_NANOS) {
                WatchKey k = dirs.remove(e.getKey());
                if (k != null) {
                    k.cancel();
                }
                close(e.getValue());
                return true;
            }
            return false;
        });
    }

    private static void close(Held h) {
        try {
            h.channel().close();
            h.newer().closeAll();
        } catch (IOException ignored) {
            // read-only
        }
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.interrupt();
        }
        try {
            if (watch != null) {
                watch.close();
            }
        } catch (IOException ignored) {
            // closing
        }
        held.values().forEach(LogPrefetcher::close);
        held.clear();
    }
}
