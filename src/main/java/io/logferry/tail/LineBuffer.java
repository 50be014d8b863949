package io.logferry.tail;

import io.logferry.model.BufferBudget;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The unterminated line of one stream of the Docker logs API, held until its newline arrives,
 * never more than {@code cap} bytes: bytes beyond the cap are counted in {@link #dropped()} and
 * not kept, whatever the container writes (100 MB without a newline holds {@code cap} bytes).
 * The array grows by doubling up to the cap and goes back to nothing when a line completes, so
 * an idle stream holds no buffer. Its bytes count against the agent's one budget
 * ({@code limits.buffers_max_bytes}): when the budget refuses them, or asks this buffer to give up
 * what it holds ({@link #cutRequested}), the line is handed on as it is ({@link #cutByBudget}) and the
 * rest of it, up to its newline, is dropped. Owned by one thread.
 */
final class LineBuffer {
    private final int cap;
    private byte[] bytes = new byte[0];
    private int size;
    private boolean overflowed;
    private long dropped;
    private final BufferBudget.Holder hold;
    /** The line held was refused by the budget: handed on cut, its rest dropped. */
    private boolean budgetCut;
    /** Dropping what is left of a line handed on cut, up to its newline. */
    private boolean dropping;

    /** @param cap the most bytes held; the caller sets it above max_bytes so that a cut line is still seen as too long */
    LineBuffer(int cap) {
        this(cap, BufferBudget.unbounded().holder());
    }

    /** @param hold this buffer's account in the agent's budget of buffered bytes */
    LineBuffer(int cap, BufferBudget.Holder hold) {
        this.cap = Math.max(cap, 1);
        this.hold = hold;
    }

    /** Whether the budget refused this buffer's bytes: the line is to be handed on now ({@link #take}), flagged truncated. */
    boolean cutByBudget() {
        return budgetCut;
    }

    /** Whether the budget asked this buffer to give up what it holds (another one needed the room). */
    boolean cutRequested() {
        return hold.cutRequested();
    }

    /** Whether the rest of a line handed on cut is being dropped (up to its newline). */
    boolean dropping() {
        return dropping;
    }

    /** The newline of a line handed on cut has come: hold again from the next line. */
    void endDropping() {
        dropping = false;
    }

    int cap() {
        return cap;
    }

    boolean isEmpty() {
        return size == 0 && !overflowed && !budgetCut;
    }

    /** Bytes held now (at most the cap). */
    int held() {
        return size;
    }

    /** Bytes left out so far, over all lines. */
    long dropped() {
        return dropped;
    }

    /** Appends what fits under the cap; returns the bytes left out. */
    int append(byte[] b, int off, int len) {
        if (dropping || budgetCut) {
            dropped += len;
            return len;
        }
        int room = cap - size;
        int keep = Math.min(room, len);
        if (keep > 0 && !hold.grow(keep)) {
            budgetCut = true;                 // what is held goes on now, the rest of the line is dropped
            dropped += len;
            return len;
        }
        if (keep > 0) {
            if (size + keep > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(cap, Math.max(size + keep, Math.max(256L, bytes.length * 2L))));
            }
            System.arraycopy(b, off, bytes, size, keep);
            size += keep;
        }
        int left = len - keep;
        if (left > 0) {
            overflowed = true;
            dropped += left;
        }
        return left;
    }

    /** Whether the line held lost bytes to the cap. */
    boolean overflowed() {
        return overflowed;
    }

    /** The line held, decoded, and the buffer emptied (its array released). */
    String take() {
        String s = new String(bytes, 0, size, StandardCharsets.UTF_8);
        bytes = new byte[0];
        size = 0;
        overflowed = false;
        budgetCut = false;
        hold.release();
        return s;
    }

    /** {@link #take} for a line handed on before its newline (cut by the budget): its rest is dropped up to the newline. */
    String takeCut() {
        String s = take();
        dropping = true;
        return s;
    }

    /** Gives the budget back (the tailer ends). */
    void release() {
        hold.release();
    }
}
