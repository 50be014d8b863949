package io.logferry.event;

/** One entry in a container's acknowledgement order: an event, or a run of bytes that produced none. */
public class Pending {
    volatile Cursor commit;
    volatile boolean acked;

    public Pending(Cursor commit, boolean acked) {
        this.commit = commit;
        this.acked = acked;
    }

    public Cursor commit() {
        return commit;
    }
}
