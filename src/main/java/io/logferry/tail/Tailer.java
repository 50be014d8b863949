package io.logferry.tail;

import io.logferry.decode.Encoder;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;

/**
 * Reads one container's log into the queue, from where its registry entry says, until the
 * container is gone and everything has been read. {@link FileTailer} reads the json-file;
 * {@link ApiTailer} reads the Docker logs API. Discovery's reports arrive through the mark
 * methods from another thread.
 */
public interface Tailer extends Runnable {
    /** Told when a tailer has read everything it will ever read. */
    interface Done {
        void finished(Tailer tailer);
    }

    ContainerInfo container();

    AckTracker tracker();

    /** Where it reads from, for the registry and log lines. */
    String source();

    /** The container was renamed: documents from now on carry the new name. */
    void rename(ContainerInfo renamed, Encoder newBuilder);

    /** The container died: read to the end, then finish. */
    void markStopped();

    /** The container started again before the tailer finished: keep following. */
    void markRunning();

    void markRemoved();

    /** The agent stops: leave at once; what is not acknowledged is read again at the next start. */
    void shutdown();

    /** Bytes written to the container's log and not read yet, or -1 when that cannot be known. */
    default long behind() {
        return -1;
    }
}
