package io.logferry.tail;

import io.logferry.decode.DockerTime;
import io.logferry.metrics.StageHistogram;

/**
 * A file tailer's part of the per-stage latency histograms: each read's time and whether the
 * tailer was behind, and each json-file line's read lag (Docker's {@code time} → the read that
 * brought it in) into {@code logferry_event_read_lag_seconds}.
 *
 * <p>Caught up or behind: a read's lines are new ("caught up") when the read before it had reached
 * the end of the file (the tailer was waiting for lines); otherwise the tailer is working through
 * a backlog ("behind"), and so is a tailer's first read. The last read of a backlog reaches the end
 * and is still behind; the first read of a burst after a wait is caught up even when it fills the
 * buffer.
 *
 * <p>Not thread-safe: the tailer's thread only.
 */
final class ReadLag {
    private final DockerTime times = new DockerTime();
    private final StageHistogram.Tally tally;
    private long readAtMillis;
    private boolean behind = true;
    private boolean lastAtEnd;

    ReadLag(StageHistogram histogram) {
        this.tally = histogram.tally();
    }

    /** A read at {@code nowMillis} (wall clock) brought bytes in; {@code atEnd}: it reached the end of the file. Returns whether its lines are behind. */
    boolean read(boolean atEnd, long nowMillis) {
        readAtMillis = nowMillis;
        behind = !lastAtEnd;
        lastAtEnd = atEnd;
        return behind;
    }

    /** A line of the last read, with Docker's {@code time}; one not in Docker's form is not counted. */
    void entry(String dockerTime) {
        long t = times.epochMillis(dockerTime);
        if (t != DockerTime.NONE) {
            tally.add(behind, readAtMillis - t);
        }
    }

    /** Adds what was counted to the histogram (after each read's lines). */
    void flush() {
        tally.flush();
    }
}
