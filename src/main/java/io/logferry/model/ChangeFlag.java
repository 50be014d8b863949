package io.logferry.model;

/**
 * "Something changed since you last looked": raised by any number of threads, taken down by the
 * one that looks. The registry flusher looks before it asks the control loop for the entries, so
 * that an idle agent does not wake the loop every second for nothing.
 *
 * <p>A raise after {@link #take()} is seen by the next take: the looker takes it down before it
 * reads what changed, so a change is never lost between the two. Starts raised. Raising a raised
 * flag is a volatile read only: no write to a shared cache line on the hot path.
 *
 * <p>Thread-safety: any thread may {@link #raise()}; {@link #take()} from one thread.
 */
public final class ChangeFlag {
    private volatile boolean raised = true;

    public void raise() {
        if (!raised) {
            raised = true;
        }
    }

    /** Whether it was raised since the last take; takes it down. */
    public boolean take() {
        if (!raised) {
            return false;
        }
        raised = false;
        return true;
    }
}
