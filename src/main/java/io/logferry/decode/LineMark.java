package io.logferry.decode;

/**
 * Where a tailer marks the line it is working on, so that the mark survives the process dying
 * in the middle of it (an out-of-memory exit runs no shutdown hook): {@code registry.InFlight}
 * keeps it in a memory-mapped file. {@link #begin} before a line's decoding, processing and
 * encoding, {@link #end} after; {@link #pause} and {@link #resume} around a wait that is not the
 * line's own work (the queue full, a rate limit), so that a process killed while it waits does not
 * take the line for the culprit. Called by the tailer's thread only; each call costs a store or two.
 */
public interface LineMark {
    /** No mark (tests, no registry directory, no slot left). */
    LineMark NONE = new LineMark() {
        @Override
        public void begin(String fileId, long offset) {
        }

        @Override
        public void end() {
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }
    };

    /** The line of file {@code fileId} starting at {@code offset} is being worked on. */
    void begin(String fileId, long offset);

    /** The line is done (a document, a dead letter, or nothing). */
    void end();

    /** The tailer waits for something else than the line's work: not in flight meanwhile. */
    void pause();

    /** The wait is over: the line (if any) is in flight again. */
    void resume();
}
