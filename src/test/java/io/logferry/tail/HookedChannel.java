package io.logferry.tail;

import java.nio.channels.FileChannel;

/**
 * A read-only log file that runs {@code hook} the first time it is read at a position (a copy to
 * the spool is then under way): the test does there what another thread would do during the
 * copy, without threads. Everything else is the real file's.
 */
final class HookedChannel extends ForwardingFileChannel {
    private Runnable hook;

    HookedChannel(FileChannel file, Runnable hook) {
        super(file);
        this.hook = hook;
    }

    @Override
    protected void beforeTransfer() {
        beforeRead();
    }

    @Override
    protected void beforeRead() {
        Runnable h = hook;
        hook = null;
        if (h != null) {
            h.run();
        }
    }
}
