package io.logferry.tail;

import io.logferry.model.Cursor;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * One job of a {@link RotationChain}: the files the tailer has read and the output has not
 * acknowledged yet (kept open so that a crash can always resume from them), released once their
 * bytes are acknowledged; and the bound {@code limits.held_*} ({@link HeldFiles}) on the files
 * waiting unread in the tailer's queue: beyond it, it names the oldest waiting file to move to the
 * spool (the {@link ChainSpooler} decides how). The watch thread's alone: the tailer's news
 * (opened, renumbered, a copy of the file it reads) arrives as posts the chain applies here.
 */
final class ChainHolder {
    private final HeldFiles held;
    /** The holder's identity in {@link HeldFiles}. */
    private final Object owner;
    /** The source the tailer reads now. */
    private RotationChain.Source readNow;
    /** Sources read, oldest first, whose bytes are not all acknowledged yet. */
    private final ArrayDeque<RotationChain.Source> retained = new ArrayDeque<>();

    ChainHolder(HeldFiles held, Object owner) {
        this.held = held;
        this.owner = owner;
    }

    /** The tailer opened {@code s} and reads it now: the one it read before is retained until acknowledged. */
    void opened(RotationChain.Source s) {
        if (readNow != null) {
            retained.add(readNow);
        }
        readNow = s;
    }

    /** The tailer reads the file again from offset 0 under {@code seq}. */
    void renumber(long seq) {
        if (readNow != null) {
            readNow.seq = seq;
        }
    }

    RotationChain.Source readNow() {
        return readNow;
    }

    /** The retained sources, oldest first. */
    List<RotationChain.Source> retained() {
        return new ArrayList<>(retained);
    }

    /** Retained and being read. */
    List<RotationChain.Source> open() {
        List<RotationChain.Source> out = new ArrayList<>(retained);
        if (readNow != null) {
            out.add(readNow);
        }
        return out;
    }

    boolean holding() {
        return !retained.isEmpty();
    }

    /** Takes out the retained sources whose bytes are all acknowledged by {@code c} (sequence below the cursor's). */
    List<RotationChain.Source> acknowledged(Cursor c) {
        List<RotationChain.Source> done = new ArrayList<>();
        while (c != null && !retained.isEmpty() && retained.peekFirst().seq < c.fileSeq()) {
            RotationChain.Source s = retained.pollFirst();
            s.acknowledged = true;
            done.add(s);
        }
        return done;
    }

    /** The tailer ended: every source, taken out. */
    List<RotationChain.Source> clear() {
        List<RotationChain.Source> out = open();
        retained.clear();
        readNow = null;
        return out;
    }

    /** What {@link #overLimit} found: the waiting file to move, the live files waiting and the total held by all containers. */
    record Over(RotationChain.Upcoming oldest, int live, long total) { }

    /**
     * Holds at most {@code limits.held_files_per_container} log files beyond the one being read,
     * and together with all other chains at most its share of {@code limits.held_bytes_total}
     * unread bytes in them: beyond either, the oldest waiting file (not {@code moving} already) is
     * named to be moved; null when within. The newest file is always kept: it is where the
     * container writes.
     */
    Over overLimit(List<RotationChain.Upcoming> waiting, Predicate<RotationChain.Upcoming> moving) {
        long bytes = 0;
        int live = 0;
        RotationChain.Upcoming oldest = null;
        for (RotationChain.Upcoming u : waiting) {
            if (u.live() && !moving.test(u)) {
                bytes += size(u);
                live++;
                if (oldest == null) {
                    oldest = u;
                }
            }
        }
        long total = held.update(owner, bytes);
        if (live <= 1 || !held.over(owner, live) || oldest == waiting.get(waiting.size() - 1)) {
            return null;
        }
        return new Over(oldest, live, total);
    }

    /** No longer counted against {@code limits.held_bytes_total}. */
    void forget() {
        held.update(owner, 0);
    }

    HeldFiles limits() {
        return held;
    }

    private static long size(RotationChain.Upcoming u) {
        try {
            return u.channel().size();
        } catch (IOException e) {
            return 0;
        }
    }
}
