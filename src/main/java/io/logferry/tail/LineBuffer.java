package io.logferry.tail;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The unterminated line of one stream of the Docker logs API, held until its newline arrives,
 * never more than {@code cap} bytes: bytes beyond the cap are counted in {@link #dropped()} and
 * not kept, whatever the container writes (100 MB without a newline holds {@code cap} bytes).
 * The array grows by doubling up to the cap and goes back to nothing when a line completes, so
 * an idle stream holds no buffer. Owned by one thread.
 */
final class LineBuffer {
    private final int cap;
    private byte[] bytes = new byte[0];
    private int size;
    private boolean overflowed;
    private long dropped;

    /** @param cap the most bytes held; the caller sets it above max_bytes so that a cut line is still seen as too long */
    LineBuffer(int cap) {
        this.cap = Math.max(cap, 1);
    }

    int cap() {
        return cap;
    }

    boolean isEmpty() {
        return size == 0 && !overflowed;
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
        int room = cap - size;
        int keep = Math.min(room, len);
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
        return s;
    }
}
