package io.logferry.model;

/** One entry in a container's acknowledgement order: an event, or a run of bytes that produced none. */
public class Pending {
    // both guarded by the lock of the container's AckTracker (an event's commit never changes after it is queued)
    Cursor commit;
    boolean acked;

    public Pending(Cursor commit, boolean acked) {
        this.commit = commit;
        this.acked = acked;
    }

    public Cursor commit() {
        return commit;
    }
}
