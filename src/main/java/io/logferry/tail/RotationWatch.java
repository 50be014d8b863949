package io.logferry.tail;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One daemon thread, {@code logferry-rotation-watch}, that checks every file tailer's
 * {@link RotationChain} ten times a second: it opens the files Docker's rotation created, so that
 * they cannot be deleted unread while a tailer is blocked by backpressure, and keeps each chain
 * within {@code limits.held_*} ({@link HeldFiles}): beyond, the oldest held file is released and
 * reported lost. This thread owns each chain's record of its files; tailers only take the files
 * it hands them. Started with the first tailer; idles when there are none; a chain its tailer
 * closed is dropped at the next round.
 */
final class RotationWatch implements Runnable {
    static final RotationWatch INSTANCE = new RotationWatch();
    private static final long INTERVAL_MS = 100;

    private final Set<RotationChain> chains = ConcurrentHashMap.newKeySet();
    private Thread thread;

    private RotationWatch() { }

    /** Hands a chain, whose first discovery its tailer has run, to the watch thread. */
    synchronized void add(RotationChain chain) {
        chains.add(chain);
        if (thread == null) {
            thread = new Thread(this, "logferry-rotation-watch");
            thread.setDaemon(true);
            thread.start();
        }
    }

    @Override
    public void run() {
        while (true) {
            chains.removeIf(c -> !c.check());
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
