package io.logferry.tail;

import io.logferry.spool.Spool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The only state of a {@link RotationChain} that more than one thread touches: the queue of files
 * the watch thread hands to the tailer, the file the tailer reads now, and the posts the tailer
 * and the spool thread leave for the watch thread, which takes them all at the start of its next
 * look at the chain ({@link #drain}). Guarded by one {@link ReentrantLock}, never held during
 * file I/O; every other field of the chain is the watch thread's.
 */
final class ChainHandOff {

    /** What the tailer or the spool thread tells the watch thread; applied in the order posted. */
    sealed interface Post {
        /** The tailer opened {@code source} and reads it now. */
        record Opened(RotationChain.Source source) implements Post { }

        /** The tailer: {@code segment} is a spooled copy of the source it reads now, deleted with it once acknowledged. */
        record CopyOf(Spool.Segment segment) implements Post { }

        /** The tailer reads the same file again from offset 0 under a new sequence number. */
        record Renumbered(long seq) implements Post { }

        /** The tailer: the container was removed; every file it holds goes to the spool. */
        record SpoolAll() implements Post { }

        /** The tailer ended. */
        record Closed() implements Post { }

        /**
         * The spool thread: the copy of {@code what} (a {@link RotationChain.Source} or a waiting
         * {@link RotationChain.Upcoming}) is over. {@code written}: what the spool took (null when
         * the copy failed or was not tried); {@code size}: the file's size it copied up to;
         * {@code copy}: the written segment opened for reading (waiting files only), or null.
         */
        record CopyDone(Object what, Outcome outcome, Spool.Written written, long size, java.nio.channels.FileChannel copy)
                implements Post { }
    }

    /** How a copy to the spool ended. */
    enum Outcome { COPIED, FAILED, NOT_TRIED }

    private final ReentrantLock lock = new ReentrantLock();
    /** Watch → tailer: files newer than the one being read, oldest first. */
    private final ArrayDeque<RotationChain.Upcoming> upcoming = new ArrayDeque<>();
    /** The inode of the file the tailer reads (null: a spooled copy, or not known yet). */
    private Object reading;
    /** Tailer, spool thread → watch. */
    private List<Post> posts = new ArrayList<>();
    /** The tailer closed the chain: nothing more is handed to it, and no copy is started. */
    private boolean closed;

    void post(Post p) {
        lock.lock();
        try {
            if (p instanceof Post.Closed) {
                closed = true;
            }
            posts.add(p);
        } finally {
            lock.unlock();
        }
    }

    /** The watch thread: every post since the last drain, oldest first. */
    List<Post> drain() {
        lock.lock();
        try {
            if (posts.isEmpty()) {
                return List.of();
            }
            List<Post> out = posts;
            posts = new ArrayList<>();
            return out;
        } finally {
            lock.unlock();
        }
    }

    boolean hasPosts() {
        lock.lock();
        try {
            return !posts.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    boolean closed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** The watch thread (or the tailer before it hands the chain over): queues {@code found}; false when the tailer has closed. */
    boolean offer(List<RotationChain.Upcoming> found) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            upcoming.addAll(found);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The tailer: the oldest waiting file, now the one it reads; null when none. */
    RotationChain.Upcoming take() {
        lock.lock();
        try {
            RotationChain.Upcoming u = upcoming.pollFirst();
            if (u != null) {
                // a spooled copy's file is closed: its inode may name a new file Docker creates, which must not pass for it
                reading = u.live() ? u.key() : null;
            }
            return u;
        } finally {
            lock.unlock();
        }
    }

    void reading(Object key) {
        lock.lock();
        try {
            reading = key;
        } finally {
            lock.unlock();
        }
    }

    Object reading() {
        lock.lock();
        try {
            return reading;
        } finally {
            lock.unlock();
        }
    }

    boolean hasNext() {
        lock.lock();
        try {
            return !upcoming.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    List<RotationChain.Upcoming> snapshot() {
        lock.lock();
        try {
            return new ArrayList<>(upcoming);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The watch thread: puts {@code copy} (null: nothing) in the place of {@code u}; false when
     * {@code u} is no longer waiting (the tailer took it) or the chain is closed.
     */
    boolean replace(RotationChain.Upcoming u, RotationChain.Upcoming copy) {
        lock.lock();
        try {
            if (closed || !upcoming.contains(u)) {
                return false;
            }
            ArrayDeque<RotationChain.Upcoming> next = new ArrayDeque<>();
            for (RotationChain.Upcoming x : upcoming) {
                if (x != u) {
                    next.add(x);
                } else if (copy != null) {
                    next.add(copy);
                }
            }
            upcoming.clear();
            upcoming.addAll(next);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The watch thread, once the tailer closed: every waiting file, taken out. */
    List<RotationChain.Upcoming> clear() {
        lock.lock();
        try {
            List<RotationChain.Upcoming> out = new ArrayList<>(upcoming);
            upcoming.clear();
            return out;
        } finally {
            lock.unlock();
        }
    }
}
