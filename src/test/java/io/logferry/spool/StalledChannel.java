package io.logferry.spool;

import io.logferry.tail.ForwardingFileChannel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A read-only log file whose {@code transferTo} (the spool's copy) stalls until the test lets it
 * go: a slow volume, without a clock. Everything else is the real file's.
 */
final class StalledChannel extends ForwardingFileChannel {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    StalledChannel(FileChannel file) {
        super(file);
    }

    @Override
    protected void beforeTransfer() throws IOException {
        entered.countDown();
        try {
            if (!release.await(60, TimeUnit.SECONDS)) {
                throw new IOException("the test never let the copy go");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
