package io.logferry.tail;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
     * oldest first, open too; {@code newer} is the prefetch thread's until {@link #take}.
     */
    public record Held(FileChannel channel, Object key, long openedAt, List<FileIdentity.Opened> newer) { }

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
                            hold(id, dir.resolve(name));
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
        Path logFile = dir.resolve(id + "-json.log");
        if (Files.exists(logFile)) {             // created before the watch was in place
            hold(id, logFile);
        }
    }

    private void hold(String id, Path file) {
        if (!dirs.containsKey(id)) {
            return;                              // adopted by its tailer (or expired)
        }
        Held first = held.get(id);
        if (first != null) {
            holdNewer(first, file);
            return;
        }
        try {
            FileIdentity.Opened o = FileIdentity.openStable(file);
            if (o == null) {
                return;
            }
            FileChannel ch = o.channel();
            Held prev = held.putIfAbsent(id, new Held(ch, o.key(), System.nanoTime(), new ArrayList<>()));
            if (prev != null) {
                ch.close();
            }
        } catch (NoSuchFileException e) {
            log.debug("container {}: its log was removed before it could be opened", id);
        } catch (IOException e) {
            log.debug("container {}: cannot open its log early: {}", id, e.getMessage());
        }
    }

    /** A new {@code -json.log} of a container whose first one is held: Docker rotated before the tailer came. */
    private void holdNewer(Held first, Path file) {
        try {
            FileIdentity.Opened o = FileIdentity.openStable(file);
            if (o == null) {
                return;
            }
            synchronized (first.newer()) {
                boolean known = o.key().equals(first.key()) || first.newer().stream().anyMatch(n -> n.key().equals(o.key()));
                if (known || !held.containsValue(first)) {
                    o.channel().close();
                    return;
                }
                first.newer().add(o);
                if (first.newer().size() > MAX_NEWER) {
                    first.newer().remove(0).channel().close();
                }
            }
        } catch (IOException e) {
            log.debug("cannot open a rotated log early: {}", e.getMessage());
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
            synchronized (h.newer()) {
                for (FileIdentity.Opened o : h.newer()) {
                    o.channel().close();
                }
                h.newer().clear();
            }
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
