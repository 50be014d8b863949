package io.logferry.tail;

import io.logferry.decode.Encoder;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.registry.InFlight;

/**
 * Reads one container's log into the queue, from where its registry entry says, until the
 * container is gone and everything has been read. {@link FileTailer} reads the json-file;
 * {@link ApiTailer} reads the Docker logs API. {@link #run} runs on the tailer's own thread;
 * the other methods are called from the agent's control loop (discovery's reports, shutdown)
 * and from the metrics (behind), so what they set is volatile.
 */
public interface Tailer extends Runnable {
    /**
     * Told, from the tailer's thread, how it ended: {@link #failed} first when an exception
     * stopped it (the supervisor starts it again), then always {@link #finished}, once its
     * files and streams are let go. An {@link Error} is not reported: it ends the process.
     */
    interface Done {
        void finished(Tailer tailer);

        /** The tailer stopped on {@code failure} before reading everything; {@link #finished} follows. */
        default void failed(Tailer tailer, Exception failure) {
        }
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

    /**
     * Poison pills, called on the tailer's thread before {@link #run}: its lines are marked in flight
     * in {@code slot} (null: not marked); {@code poison}, when not null, is the line its container's
     * tailer was working on when the agent last exited, to be dead-lettered as read, not processed.
     */
    default void inFlight(InFlight.Slot slot, InFlight.Line poison) {
    }

    /** Bytes written to the container's log and not read yet, or -1 when that cannot be known. */
    default long behind() {
        return -1;
    }
}
