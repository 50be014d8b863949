package io.logferry.registry;

import io.logferry.decode.LineMark;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The lines in flight, in a small memory-mapped file beside the registry ({@code inflight}): what
 * makes a crash loop on one line impossible. Each tailer has a slot where it writes, before each
 * line, the line's file and start offset, and clears it after ({@link LineMark}). The mapping is
 * shared ({@code MAP_SHARED}): its pages belong to the kernel's page cache, so what was written
 * survives the process dying at any instruction, an out-of-memory exit included, which runs no
 * shutdown hook. (Not a power loss: nothing is synced, there is no need.)
 *
 * <pre>
 *   start ──► clean shutdown last time? ── yes ──► nothing in flight
 *                   │ no
 *                   ▼
 *   each busy slot (container, file, offset) ── marked fatal, or busy at the previous unclean exit too
 *                   │ no                                   │ yes
 *                   ▼                                      ▼
 *             a suspect: processed again;          a poison pill: its tailer dead-letters that line
 *             remembered for the next start         as read ("in flight when the agent exited")
 * </pre>
 *
 * <p>Why two strikes for an unmarked exit: a {@code SIGKILL} (or {@code docker kill}, the OOM
 * killer) also leaves a slot busy, and a reading tailer is in the middle of some line most of the
 * time; a line dead-lettered for that would be missing from its stream. A line that is in flight
 * at two unclean exits in a row is the culprit; one in flight when an Error ended the process
 * through the uncaught-Error handler ({@link #fatal(Thread)} marks the slot of the thread that
 * died) is one at once. Either way the agent exits at most twice on one line, never in a loop.
 *
 * <p>Layout (native byte order): a header ({@value #SLOT} bytes: magic, clean-shutdown flag), then
 * {@value #SLOTS} suspects from the last unclean exit, then {@value #SLOTS} slots. A slot or
 * suspect: the mark (offset + 1, 0 when idle) at 0, a fatal flag at 8, in use at 9, the
 * container id (length at 10, up to 64 bytes) and the file id (length at 75, up to 52 bytes).
 *
 * <p>Threads: a slot's mark is written only by its tailer's thread (plain stores: the process's
 * own threads never read them, the next process does); slots are taken and given back under this
 * object's lock; {@link #fatal} may be called by any thread.
 */
public final class InFlight implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InFlight.class);
    static final int SLOT = 128;
    static final int SLOTS = 2048;
    private static final long MAGIC = 0x4c46494e464c5431L;   // "LFINFLT1"
    private static final int CLEAN = 8;
    private static final int FATAL = 8;
    private static final int USED = 9;
    private static final int CID = 10;
    private static final int CID_MAX = 64;
    private static final int FID = 75;
    private static final int FID_MAX = SLOT - FID - 1;
    static final long SIZE = (long) SLOT * (1 + 2 * SLOTS);

    /** A line that was in flight at an unclean exit. */
    public record Line(String containerId, String fileId, long offset) { }

    private static volatile InFlight current;

    private final Path file;
    private final FileChannel channel;
    private final MappedByteBuffer map;
    private final BitSet taken = new BitSet(SLOTS);
    private final Slot[] active = new Slot[SLOTS];
    private final Map<String, Line> poisons = new HashMap<>();
    private final List<Line> suspects = new ArrayList<>();
    private boolean full;

    private InFlight(Path file) throws IOException {
        this.file = file;
        Files.createDirectories(file.toAbsolutePath().getParent());
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));  // as the registry
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system
        }
        boolean fresh = channel.size() != SIZE;
        if (fresh) {
            channel.truncate(0);
        }
        this.map = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
        map.order(ByteOrder.nativeOrder());
        if (fresh || map.getLong(0) != MAGIC) {
            clear(0, SIZE);
            map.putLong(0, MAGIC);
            return;
        }
        if (map.get(CLEAN) == 0) {
            recover();
        }
        clear(SLOT, SIZE);       // the previous run's suspects are replaced below, its slots are history
        for (int i = 0; i < suspects.size(); i++) {
            write(suspectBase(i), suspects.get(i));
        }
    }

    /**
     * Opens (or creates) the file, reads what was in flight if the last run did not end cleanly,
     * and makes it the one {@link #fatal} marks.
     */
    public static InFlight open(Path file) throws IOException {
        InFlight f = new InFlight(file);
        f.map.put(CLEAN, (byte) 0);
        current = f;
        return f;
    }

    /** The file beside the registry file {@code registry}. */
    public static Path beside(Path registry) {
        return registry.toAbsolutePath().resolveSibling("inflight");
    }

    private void recover() {
        List<Line> before = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            Line l = read(suspectBase(i));
            if (l != null) {
                before.add(l);
            }
        }
        for (int i = 0; i < SLOTS; i++) {
            int base = slotBase(i);
            Line l = read(base);
            if (l == null) {
                continue;
            }
            boolean fatal = map.get(base + FATAL) != 0;
            if (fatal || before.contains(l)) {
                poisons.put(l.containerId(), l);
                log.warn("container {}: the line at {} offset {} was being processed when the agent exited{};"
                        + " it goes to the dead-letter stream as read instead of being processed again", l.containerId(),
                        l.fileId(), l.offset(), fatal ? " on a fatal error" : " the last two times it did");
            } else {
                suspects.add(l);
                log.info("container {}: the line at {} offset {} was being processed when the agent last exited uncleanly;"
                        + " it is processed again, and dead-lettered if the agent exits on it once more", l.containerId(),
                        l.fileId(), l.offset());
            }
        }
    }

    /** The lines in flight at the last exit that are not to be processed again, by container id (taken once). */
    public synchronized Line takePoison(String containerId) {
        return poisons.remove(containerId);
    }

    /** Lines in flight at the last unclean exit that are processed again (for tests and the log). */
    public synchronized List<Line> suspects() {
        return List.copyOf(suspects);
    }

    /** A slot for a tailer of {@code containerId}, or null when all {@value #SLOTS} are taken. */
    public synchronized Slot take(String containerId) {
        int i = taken.nextClearBit(0);
        if (i >= SLOTS) {
            if (!full) {
                full = true;
                log.warn("more than {} tailers: the lines of the ones beyond are not marked in flight (no poison-pill protection)", SLOTS);
            }
            return null;
        }
        taken.set(i);
        int base = slotBase(i);
        clear(base, base + SLOT);
        putString(base + CID, CID_MAX, containerId);
        map.put(base + USED, (byte) 1);
        Slot s = new Slot(i, base);
        active[i] = s;
        return s;
    }

    private synchronized void give(Slot s) {
        clear(s.base, s.base + SLOT);
        taken.clear(s.index);
        active[s.index] = null;
    }

    /**
     * The thread {@code t} is ending the process on an Error (the uncaught-Error handler calls
     * this before it halts): the line its slot holds, if any, is the culprit. Any thread.
     */
    public static void fatal(Thread t) {
        InFlight f = current;
        if (f == null) {
            return;
        }
        for (Slot s : f.active.clone()) {
            if (s != null && s.owner == t) {
                f.map.put(s.base + FATAL, (byte) 1);
            }
        }
    }

    /** A clean shutdown: nothing was in flight (what tailers still mark from now on is ignored at the next start). */
    @Override
    public void close() throws IOException {
        map.put(CLEAN, (byte) 1);
        if (current == this) {
            current = null;
        }
        channel.close();
    }

    public Path file() {
        return file;
    }

    private static int suspectBase(int i) {
        return SLOT * (1 + i);
    }

    private static int slotBase(int i) {
        return SLOT * (1 + SLOTS + i);
    }

    private Line read(int base) {
        long mark = map.getLong(base);
        if (mark == 0 || map.get(base + USED) == 0) {
            return null;
        }
        return new Line(getString(base + CID), getString(base + FID), mark - 1);
    }

    private void write(int base, Line l) {
        putString(base + CID, CID_MAX, l.containerId());
        putString(base + FID, FID_MAX, l.fileId());
        map.put(base + USED, (byte) 1);
        map.putLong(base, l.offset() + 1);
    }

    private void putString(int at, int max, String s) {
        byte[] b = s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, max);
        map.put(at, (byte) n);
        map.put(at + 1, b, 0, n);
    }

    private String getString(int at) {
        int n = Math.min(map.get(at) & 0xff, SLOT);
        byte[] b = new byte[n];
        map.get(at + 1, b, 0, n);
        return new String(b, StandardCharsets.UTF_8);
    }

    private void clear(long from, long to) {
        for (long i = from; i < to; i += 8) {
            map.putLong((int) i, 0L);
        }
    }

    /**
     * One tailer's slot. Its methods are called by the tailer's thread only ({@link #release} by
     * whoever ends the tailer, after its thread has left the line loop).
     */
    public final class Slot implements LineMark {
        private final int index;
        private final int base;
        private volatile Thread owner;
        /** The mark while a line is in flight (offset + 1), 0 between lines. */
        private long mark;
        private String fileId;

        private Slot(int index, int base) {
            this.index = index;
            this.base = base;
        }

        @Override
        public void begin(String fid, long offset) {
            if (fid != fileId) {        // the same String while a file is read: the rest is out of the line's way
                fileChanged(fid);
            }
            long m = offset + 1;
            mark = m;
            map.putLong(base, m);
        }

        private void fileChanged(String fid) {
            owner = Thread.currentThread();
            if (!Objects.equals(fid, fileId)) {
                putString(base + FID, FID_MAX, fid);
            }
            fileId = fid;
        }

        @Override
        public void end() {
            mark = 0;
            map.putLong(base, 0L);
        }

        @Override
        public void pause() {
            if (mark != 0) {
                map.putLong(base, 0L);
            }
        }

        @Override
        public void resume() {
            if (mark != 0) {
                map.putLong(base, mark);
            }
        }

        /** The tailer ended (not on an Error): the slot is free again. */
        public void release() {
            give(this);
        }
    }
}
