package io.logferry.model;

/**
 * A position in a container's log: the file (its fingerprint, and the order in which the tailer
 * opened it) and a byte offset in it. Cursors of one container are totally ordered.
 */
public record Cursor(long fileSeq, String fileId, long offset) implements Comparable<Cursor> {
    @Override
    public int compareTo(Cursor o) {
        int c = Long.compare(fileSeq, o.fileSeq);
        return c != 0 ? c : Long.compare(offset, o.offset);
    }

    public static Cursor min(Cursor a, Cursor b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.compareTo(b) <= 0 ? a : b;
    }
}
