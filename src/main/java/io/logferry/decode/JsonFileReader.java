package io.logferry.decode;

import io.logferry.model.Cursor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The line loop of a json-file log: bytes from a {@link Source} → lines split at {@code '\n'} →
 * {@link DockerJsonDecoder} → {@link MessageAssembler}. The file tailer reads its files through
 * it, and the decode tests feed it bytes directly.
 *
 * <pre>
 *   Source ──read(position)──► buffer [bufStart, bufStart + fill) ──'\n'──► decode ──► assembler
 *                                 the unterminated line stays        malformed: skipped, cursor moves,
 *                                 at the start of the buffer         the listener counts and logs it
 * </pre>
 *
 * <p>Containment: whatever one line does on its way (decoding, the assembler, JSON, processors,
 * the encoder: an exception, a {@link StackOverflowError}) is caught at the line's boundary and
 * costs that line only: it goes to the dead-letter stream as read, with the error
 * ({@link MessageAssembler#failed}); never an {@link OutOfMemoryError}, which ends the process.
 *
 * <p>Poison pills: each line is marked in flight ({@link LineMark}, a memory-mapped slot) while it is
 * worked on, so that the line the agent died on is known at the next start; that line is then
 * dead-lettered as read instead of processed again ({@link #poison}).
 *
 * <p>Invariant: every byte before {@link #position()} has been read and every complete line
 * before {@link #lineStart()} handed to the assembler (as an entry, or as a skip of a malformed
 * line), so the cursor advances for every raw byte consumed, filtered or malformed lines included.
 *
 * <p>Memory: the buffer is allocated only when the source has bytes beyond those read
 * ({@value #INITIAL_BUFFER} bytes), grows by doubling for a long line up to {@value #MAX_LINE}
 * bytes, and goes back to nothing (or the unterminated line's bytes) in
 * {@link #releaseIfIdle}. A line longer than {@value #MAX_LINE} bytes is skipped to its end and
 * reported malformed.
 *
 * <p>Not thread-safe: owned by one thread (a tailer's), except {@link #position()}, which any
 * thread may read.
 */
public final class JsonFileReader {
    public static final int INITIAL_BUFFER = 256 * 1024;
    public static final int MAX_LINE = 16 * 1024 * 1024;
    private static final byte[] NO_BUFFER = new byte[0];

    /** Where the bytes come from: positional reads, like a {@link FileChannel}'s. */
    public interface Source {
        long size() throws IOException;

        /** Reads into {@code dst} from {@code position}; returns the bytes read, 0 or -1 when there are none. */
        int read(ByteBuffer dst, long position) throws IOException;

        static Source of(FileChannel ch) {
            return new Source() {
                @Override
                public long size() throws IOException {
                    return ch.size();
                }

                @Override
                public int read(ByteBuffer dst, long position) throws IOException {
                    return ch.read(dst, position);
                }
            };
        }
    }

    /** What the reader needs from, and tells, its owner. */
    public interface Listener {
        /** The file id of a file opened without one, from its first line (read at offset 0). */
        String identify(byte[] line, int off, int len);

        /** A line was skipped (undecodable, too long, or cut off): count it, log it. */
        void malformed(long offset, String why);

        /**
         * A read brought bytes in, before the lines it completes are handed on: {@code atEnd} when it
         * got fewer than it asked for (it reached the end of what the source had then). For the
         * per-stage latency histograms; one call per read.
         */
        default void read(boolean atEnd) {
        }

        /** A line was decoded, before the assembler takes it: Docker's {@code time} of it (as written, unparsed). */
        default void entry(String dockerTime) {
        }
    }

    private final MessageAssembler assembler;
    private final Listener listener;
    private byte[] buf = NO_BUFFER;
    /** The line scanner, made with the buffer and let go with it. */
    private FastDockerLine scanner;
    /** The file offset of {@code buf[0]}: where the unterminated line starts. */
    private long bufStart;
    private int fill;
    private boolean skippingLongLine;
    private long fileSeq;
    private String fileId;
    private long lastReadNanos = System.nanoTime();
    /** {@code bufStart + fill}, for other threads. */
    private volatile long position;
    private LineMark mark = LineMark.NONE;
    /** The line that was in flight when the agent last exited, not to be processed again: its file and start; -1: none. */
    private String poisonFileId;
    private long poisonOffset = -1;

    public JsonFileReader(MessageAssembler assembler, Listener listener) {
        this.assembler = assembler;
        this.listener = listener;
    }

    /**
     * Continues with another file (or the same file read again from {@code offset}): a new file
     * sequence number; {@code fileId} null when its first line is still to be read (it then names
     * the file, see {@link Listener#identify}). What the buffer held of the previous file is dropped.
     */
    public void open(String fileId, long offset) {
        this.fileId = fileId;
        fileSeq++;
        bufStart = offset;
        fill = 0;
        skippingLongLine = false;
        position = offset;
    }

    /** Where each line is marked in flight while it is worked on (before the first read). */
    public void mark(LineMark m) {
        this.mark = m;
    }

    /**
     * The line of file {@code fileId} starting at {@code offset} was in flight when the agent last
     * exited: when the reader comes to it, it is dead-lettered as read instead of processed
     * ({@link MessageAssembler#inFlight}). Before the first read.
     */
    public void poison(String fileId, long offset) {
        this.poisonFileId = fileId;
        this.poisonOffset = offset;
    }

    /** The sequence number of the file being read (the cursors' {@code fileSeq}), 1 for the first one opened. */
    public long fileSeq() {
        return fileSeq;
    }

    /** The id of the file being read, null until its first line has been read. */
    public String fileId() {
        return fileId;
    }

    /** The offset up to which the file has been read (any thread). */
    public long position() {
        return position;
    }

    /** The offset where the line not yet complete starts: every line before it has been handed on. */
    public long lineStart() {
        return bufStart;
    }

    /** Bytes read of a line whose newline has not come yet. */
    public int unfinished() {
        return fill;
    }

    /** Bytes of buffer held now. */
    public int bufferBytes() {
        return buf.length;
    }

    /**
     * Gives the buffer back after {@code idleNanos} without a byte read: only the unterminated
     * line it holds (usually nothing) is kept, so that quiet containers cost no buffer.
     */
    /** Whether it still holds a read buffer (given back by {@link #releaseIfIdle}) or an unfinished line's bytes. */
    public boolean holdsBuffer() {
        return buf.length > 0;
    }

    public void releaseIfIdle(long nowNanos, long idleNanos) {
        if (buf.length > fill && nowNanos - lastReadNanos > idleNanos) {
            buf = fill == 0 ? NO_BUFFER : Arrays.copyOf(buf, fill);
            scanner = null;
        }
    }

    /**
     * One read from the source at {@link #position()}, and every line it completes handed on.
     * Returns the bytes read (0 when there were none); the caller repeats while it gets some.
     */
    public int readOnce(Source src) throws IOException, InterruptedException {
        if (buf.length == 0) {
            if (src.size() <= bufStart) {
                return 0;                    // nothing to read: no buffer
            }
            buf = new byte[INITIAL_BUFFER];
        }
        if (fill == buf.length) {
            if (buf.length >= MAX_LINE) {
                // a line longer than any Docker writes: skip to its end, counted as malformed
                if (!skippingLongLine) {
                    listener.malformed(bufStart, "a line longer than " + MAX_LINE + " bytes");
                    if (fileId == null && bufStart == 0) {
                        fileId = listener.identify(buf, 0, fill);
                    }
                }
                skippingLongLine = true;
                bufStart += fill;
                fill = 0;
            } else {
                buf = Arrays.copyOf(buf, Math.min(Math.max(buf.length * 2, INITIAL_BUFFER), MAX_LINE));
            }
        }
        int asked = buf.length - fill;
        int n = src.read(ByteBuffer.wrap(buf, fill, asked), bufStart + fill);
        if (n <= 0) {
            return 0;
        }
        listener.read(n < asked);
        lastReadNanos = System.nanoTime();
        int scanFrom = fill;
        fill += n;
        position = bufStart + fill;
        int lineStart = 0;
        for (int i = scanFrom; i < fill; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            if (skippingLongLine) {
                skippingLongLine = false;
                assembler.skip(new Cursor(fileSeq, fileId == null ? "unknown" : fileId, bufStart + i + 1));
            } else {
                line(lineStart, i - lineStart, bufStart + lineStart, bufStart + i + 1);
            }
            lineStart = i + 1;
        }
        if (lineStart > 0) {
            System.arraycopy(buf, lineStart, buf, 0, fill - lineStart);
            fill -= lineStart;
            bufStart += lineStart;
        }
        return n;
    }

    private void line(int off, int len, long start, long end) throws InterruptedException {
        if (fileId == null) {
            fileId = start == 0 ? listener.identify(buf, off, len) : "unknown";
        }
        if (scanner == null) {
            scanner = new FastDockerLine();
        }
        if (start == poisonOffset && fileId.equals(poisonFileId)) {
            poisonOffset = -1;
            assembler.inFlight(new String(buf, off, len, StandardCharsets.UTF_8), new Cursor(fileSeq, fileId, start),
                    new Cursor(fileSeq, fileId, end));
            return;
        }
        mark.begin(fileId, start);
        if (TestFaults.ON) {
            TestFaults.onLine(buf, off, len);
        }
        try {
            DockerEntry e;
            try {
                e = DockerJsonDecoder.decode(scanner, buf, off, len, start, end, assembler.escapedLimit());
            } catch (DockerJsonDecoder.MalformedLineException ex) {
                e = null;
                assembler.skip(new Cursor(fileSeq, fileId, end));
                listener.malformed(start, ex.getMessage());
            }
            if (e != null) {
                listener.entry(e.time());
                assembler.accept(e, fileSeq, fileId);
            }
        } catch (RuntimeException | StackOverflowError ex) {
            // the line's boundary: whatever its decoding, processing or encoding does costs this line only
            assembler.failed(new String(buf, off, len, StandardCharsets.UTF_8), new Cursor(fileSeq, fileId, start),
                    new Cursor(fileSeq, fileId, end), ex);
        }
        // not in a finally: a line that ends the process with an Error stays marked in flight
        mark.end();
    }
}
