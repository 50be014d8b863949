package io.logferry.model;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One memory budget for every per-container buffer ({@code limits.buffers_max_bytes}): the partial
 * lines and multiline events the assemblers hold, the API tailers' line buffers, counted in UTF-8
 * bytes. Each buffer is a {@link Holder} that asks before it grows. Within the budget it may;
 * beyond it the <em>largest</em> holder is cut: told so, it gives up what it holds at its owner's
 * next step (the message is sent as it is, flagged {@code truncated}, and the rest of its line is
 * dropped, as at {@code max_bytes}). Until it has, a holder that would take the budget beyond its
 * bound is refused and cuts itself the same way: the sum never exceeds the bound, and nothing waits
 * for another tailer's thread. One container's unterminated lines can therefore never exhaust the
 * heap, and a victim's short lines (held for no time, or not at all) are never cut for it.
 *
 * <p>Thread-safe: the total is one atomic; a holder's size is written by its owner's thread only
 * and read by any ({@code volatile}); the set of holders that hold something is concurrent, and is
 * scanned only when the budget is full.
 */
public final class BufferBudget {
    private final long max;
    private final AtomicLong used = new AtomicLong();
    private final Set<Holder> holding = ConcurrentHashMap.newKeySet();
    private final LongAdder cuts;

    public BufferBudget(long max) {
        this(max, new LongAdder());
    }

    /** @param cuts counts the holders cut (told to, or refused): {@code logferry_buffers_cut_total} */
    public BufferBudget(long max, LongAdder cuts) {
        this.max = max;
        this.cuts = cuts;
    }

    /** No bound (tests, benchmarks). */
    public static BufferBudget unbounded() {
        return new BufferBudget(Long.MAX_VALUE);
    }

    public long max() {
        return max;
    }

    /** UTF-8 bytes held by all holders now. */
    public long used() {
        return used.get();
    }

    /** Holders cut so far (told to, or refused). */
    public long cuts() {
        return cuts.sum();
    }

    /** A new buffer's account, owned by one thread. */
    public Holder holder() {
        return new Holder();
    }

    /** One buffer's share of the budget; {@link #grow} and {@link #release} by its owner's thread only. */
    public final class Holder {
        private volatile long held;
        private volatile boolean cut;

        private Holder() {
        }

        /** Bytes held now. */
        public long held() {
            return held;
        }

        /** Whether this holder was told to give up what it holds (the largest when the budget was full). */
        public boolean cutRequested() {
            return cut;
        }

        /**
         * Whether this holder may hold {@code n} more bytes. False: the budget is full, and this holder must
         * cut now (give up what it holds, then {@link #release}); the largest holder is told to cut too.
         */
        public boolean grow(long n) {
            if (cut) {
                return false;
            }
            if (used.addAndGet(n) <= max) {
                if (held == 0) {
                    holding.add(this);
                }
                held += n;
                return true;
            }
            used.addAndGet(-n);
            Holder largest = this;
            for (Holder h : holding) {
                if (h.held > largest.held) {
                    largest = h;
                }
            }
            if (largest != this && !largest.cut) {
                largest.cut = true;
                cuts.increment();
            }
            cuts.increment();
            return false;
        }

        /** Gives back everything held (the buffer was sent, cut or dropped); clears a request to cut. */
        public void release() {
            long h = held;
            if (h != 0) {
                used.addAndGet(-h);
                held = 0;
                holding.remove(this);
            }
            cut = false;
        }
    }
}
