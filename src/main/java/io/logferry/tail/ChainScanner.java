package io.logferry.tail;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * One job of a {@link RotationChain}: discovering a container's json-file logs. It lists the
 * directory, fingerprints what it finds, opens every file not yet accounted for (newer than all
 * known: Docker only ever adds a new {@code -json.log}) and hands it to the tailer's queue
 * ({@link ChainHandOff#offer}), and reports a loss when Docker rotated every known file away
 * between two looks and inotify did not count every creation as found.
 *
 * <p>Thread: built and first run by the tailer's thread ({@link #start} and the like) before the
 * chain is handed to the {@link RotationWatch}; from then on the watch thread's alone. No field is
 * shared, except {@link #watched} (published for the tailer's wait).
 */
final class ChainScanner {
    private static final Logger log = LoggerFactory.getLogger(ChainScanner.class);
    private static final int DISCOVER_ATTEMPTS = 5;

    private final Path dir;
    private final String containerId;
    private final Path current;
    private final ChainHandOff handOff;
    private final LongAdder lost;
    private final Supplier<String> container;

    /** Every file accounted for (read, being read, queued, or before the start): inode → fingerprint. */
    private final Map<Object, String> known = new HashMap<>();
    /** The newest file handed to the tailer (or the one it started with). */
    private Object newestKey;
    /** The inode the log path named at the last look (null: none). */
    private Object currentKey;
    /** New {@code -json.log} files inotify reported since the last look. */
    private int created;
    /** Inotify watches the directory (set by the watch, read by the tailer). */
    private volatile boolean watched;
    /** Inotify watched the directory and lost no event since the last look: its creations were counted. */
    private boolean counting;

    ChainScanner(Path dir, String containerId, ChainHandOff handOff, LongAdder lost, Supplier<String> container) {
        this.dir = dir;
        this.containerId = containerId;
        this.current = dir.resolve(containerId + "-json.log");
        this.handOff = handOff;
        this.lost = lost;
        this.container = container;
    }

    /** The container's log files, oldest first: {@code -json.log.N} ... {@code -json.log.1}, then {@code -json.log}. */
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
    static List<Path> rotatedOldestFirst(Path dir, String containerId) {
        TreeMap<Integer, Path> byNumber = new TreeMap<>(Comparator.reverseOrder());
        String prefix = containerId + "-json.log.";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*")) {
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

    /** The inodes of every {@code -json.log*} file in the container's directory now. */
    Set<Object> presentKeys() {
        Set<Object> out = new HashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, containerId + "-json.log*")) {
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

    /** The tailer reads the file {@code key} (fingerprint {@code fileId}, null while it has no complete line); {@code older} are accounted for. */
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
        handOff.reading(key);
        discover();
    }

    /** The tailer reads the prefetched first file {@code key}; {@code newer} (queued by the chain) are accounted for. */
    void startEarly(Object key, List<RotationChain.Upcoming> newer) throws IOException {
        newestKey = key;
        handOff.reading(key);
        for (RotationChain.Upcoming u : newer) {
            known.put(u.key(), u.fileId());
            newestKey = u.key();
        }
        discover();
    }

    /** The tailer resumes from a plan: {@code live} are the log files accounted for, {@code newest} the newest of them. */
    void startQueued(Map<Object, String> live, Object newest, Object readingKey) {
        known.putAll(live);
        newestKey = newest;
        handOff.reading(readingKey);
    }

    /** The watch: inotify watches the directory from now on. */
    void watching() {
        watched = true;
    }

    boolean watched() {
        return watched;
    }

    /** The watch: inotify reported {@code name} created in the directory. */
    void createdEvent(Path name) {
        if (name.toString().equals(containerId + "-json.log")) {
            created++;
        }
    }

    /** The watch: inotify lost events; the next look cannot count creations. */
    void overflow() {
        counting = false;
    }

    /** The inode the log path named at the last {@link #discoverIfRotated}. */
    Object currentKey() {
        return currentKey;
    }

    /**
     * {@link #discover()}, but only when the log path no longer names the newest file: Docker
     * rotates by renaming {@code -json.log} and creating a new one, so while the path still names
     * the newest open file no newer file can exist. One {@code stat} instead of opening and
     * fingerprinting every file of the chain. (An open file's inode cannot be reused, so an equal
     * key is the same file.) Returns whether it looked.
     */
    boolean discoverIfRotated() throws IOException {
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
    void discover() throws IOException {
        // the creations inotify reported before this look starts: each is of a file this look lists, or of one
        // Docker deleted before it (a creation reported later, during the look, counts for the next look, whose
        // count it can only raise: a loss is then reported where none was, never the reverse). Inotify's events are
        // taken on the watch thread, which is this one: none arrives during the look.
        int made = created;
        created = 0;
        // a look while Docker renames files (inotify wakes this thread right then) can see a name that is
        // gone when it is opened, or one file under two names: such a look is taken again
        for (int attempt = 1; ; attempt++) {
            if (discoverOnce(attempt == DISCOVER_ATTEMPTS, made)) {
                return;
            }
        }
    }

    /** One look; false (and nothing changed) when the directory changed under it and {@code last} is false. */
    private boolean discoverOnce(boolean last, int made) throws IOException {
        Object readingNow = handOff.reading();
        Set<Object> present = new HashSet<>();
        List<RotationChain.Upcoming> found = new ArrayList<>();
        boolean stable = true;
        List<Path> listed = files(dir, containerId);
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
                found.add(new RotationChain.Upcoming(o.channel(), key, now, p, null));
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
            List<Path> again = files(dir, containerId);
            stable = again.equals(listed);
            for (int i = 0; stable && i < again.size(); i++) {
                stable = Objects.equals(FileIdentity.key(again.get(i)), keys.get(i));
            }
        }
        if (!stable && !last) {
            for (RotationChain.Upcoming u : found) {
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
    private void handOver(List<RotationChain.Upcoming> found, Set<Object> present, Object readingNow, boolean stable, int made) {
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
        if (!handOff.offer(found)) {
            found.forEach(u -> close(u.channel()));
            return;
        }
        List<RotationChain.Upcoming> queued = handOff.snapshot();
        for (RotationChain.Upcoming u : found) {
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

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a read-only file
        }
    }
}
