package io.logferry.tail;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many unread bytes the file tailers hold in log files beyond the one each is reading
 * (rotated files opened so that Docker cannot delete them unread, see {@link FileTailer}), summed
 * over all containers, against {@code limits.held_bytes_total}; and the per-container cap
 * {@code limits.held_files_per_container}. A file Docker deleted while it is held still fills the
 * host's disk until it is closed, so beyond either bound a chain moves its oldest held file to
 * the spool (or, without one that takes it, reports its bytes as lost). The total is shared
 * fairly: only a container holding more than its share releases ({@link #over}). One instance per agent, shared by every file tailer:
 * thread-safe (each {@link RotationChain}'s {@link ChainHolder} updates its own entry on the
 * rotation watch's thread; the total is kept with atomic deltas and read by the metrics).
 */
public final class HeldFiles {
    private final int filesPerContainer;
    private final long bytesTotal;
    private final Map<Object, Long> byTailer = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();

    public HeldFiles(int filesPerContainer, long bytesTotal) {
        this.filesPerContainer = filesPerContainer;
        this.bytesTotal = bytesTotal;
    }

    /** No bounds (tests, benchmarks). */
    public static HeldFiles unbounded() {
        return new HeldFiles(Integer.MAX_VALUE, Long.MAX_VALUE);
    }

    int filesPerContainer() {
        return filesPerContainer;
    }

    long bytesTotal() {
        return bytesTotal;
    }

    /** Records what {@code tailer} holds now; returns the total over all tailers. */
    long update(Object tailer, long bytes) {
        Long before = bytes == 0 ? byTailer.remove(tailer) : byTailer.put(tailer, bytes);
        return total.addAndGet(bytes - (before == null ? 0 : before));
    }

    /** Unread bytes of held files over all containers. */
    public long total() {
        return total.get();
    }

    /**
     * Whether {@code tailer}, which holds {@code files} files beyond the one it reads, must release
     * its oldest: beyond {@code held_files_per_container}, or while the total is beyond
     * {@code held_bytes_total} and it holds more than its fair share of it (the total divided by
     * the tailers holding files now). A container within its share never releases for another's
     * bytes; while the total is over, at least one holder is over its share, and only those release.
     */
    boolean over(Object tailer, int files) {
        if (files > filesPerContainer) {
            return true;
        }
        if (total.get() <= bytesTotal) {
            return false;
        }
        Long mine = byTailer.get(tailer);
        int holders = Math.max(1, byTailer.size());
        return mine != null && mine > bytesTotal / holders;
    }

    /** The share of {@code held_bytes_total} each holder is guaranteed now. */
    long share() {
        return bytesTotal / Math.max(1, byTailer.size());
    }
}
