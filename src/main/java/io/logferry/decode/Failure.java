package io.logferry.decode;

import io.logferry.model.Cursor;

/**
 * A line or message that could not become a document: something in its decoding, processing or
 * encoding threw (a bug of ours met by a hostile line, a {@link StackOverflowError}), or it was
 * being processed when the agent exited (the poison pill: see {@code registry.InFlight}). It goes
 * to the dead-letter data stream as it was read, with the error, and its bytes are acknowledged
 * like any other event's: it costs that line only, never the tailer or the agent.
 *
 * @param start    where it begins (its {@code _id}, as a document's)
 * @param commit   the cursor its acknowledgement may commit
 * @param stream   stdout or stderr; null when the line could not be decoded that far
 * @param time     Docker's timestamp of the entry; null when unknown
 * @param raw      the text as read: the message, or the json-file line itself
 * @param reason   {@link #ERROR} or {@link #IN_FLIGHT}
 * @param errorType    what went wrong, for {@code error.type} (an exception's class name)
 * @param errorMessage its message, for {@code error.message}
 */
public record Failure(Cursor start, Cursor commit, String stream, String time, String raw, String reason, String errorType,
                      String errorMessage) {
    /** Something threw while the line or message was decoded, processed or encoded. */
    public static final String ERROR = "error";
    /** The line was being processed when the agent exited (out of memory, a crash): not processed again. */
    public static final String IN_FLIGHT = "in_flight";
    /** The {@code error.message} of an {@link #IN_FLIGHT} dead letter. */
    public static final String IN_FLIGHT_MESSAGE = "in flight when the agent exited";
    /** At most this many characters of an exception's message are kept. */
    static final int MAX_ERROR_CHARS = 1024;

    /** A failure caught at the line's boundary. */
    public static Failure of(Cursor start, Cursor commit, String stream, String time, String raw, Throwable error) {
        String msg = String.valueOf(error.getMessage());
        if (msg.length() > MAX_ERROR_CHARS) {
            msg = msg.substring(0, MAX_ERROR_CHARS);
        }
        return new Failure(start, commit, stream, time, raw, ERROR, error.getClass().getName(), msg);
    }

    /** A line that was in flight when the agent exited. */
    public static Failure inFlight(Cursor start, Cursor commit, String stream, String time, String raw) {
        return new Failure(start, commit, stream, time, raw, IN_FLIGHT, "agent_exit", IN_FLIGHT_MESSAGE);
    }

    /**
     * Whether a throwable from one line's path may be contained to that line: every
     * {@link RuntimeException} and {@link StackOverflowError} (the stack has unwound to the catch);
     * never an {@link OutOfMemoryError} or another {@link Error}, which end the process.
     */
    public static boolean containable(Throwable t) {
        return t instanceof RuntimeException || t instanceof StackOverflowError;
    }
}
