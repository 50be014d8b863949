package io.logferry.tail;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One daemon thread that looks at every file tailer's log directory ten times a second and opens
 * the files Docker's rotation created, so that they cannot be deleted unread while a tailer is
 * blocked by backpressure, and keeps each tailer within {@code limits.held_*} ({@link HeldFiles}):
 * beyond, the oldest held file is released and reported lost. Started with the first tailer;
 * idles when there are none.
 */
final class RotationWatch implements Runnable {
    static final RotationWatch INSTANCE = new RotationWatch();
    private static final long INTERVAL_MS = 100;

    private final Set<FileTailer> tailers = ConcurrentHashMap.newKeySet();
    private Thread thread;

    private RotationWatch() { }

    synchronized void add(FileTailer t) {
        tailers.add(t);
        if (thread == null) {
            thread = new Thread(this, "logferry-rotation-watch");
            thread.setDaemon(true);
            thread.start();
        }
    }

    void remove(FileTailer t) {
        tailers.remove(t);
    }

    @Override
    public void run() {
        while (true) {
            for (FileTailer t : tailers) {
                t.watch();
            }
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
