package io.logferry.elasticsearch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which data streams (or the whole cluster) block writes, for the log lines an operator reads:
 * one when a block is first seen, "still blocked" at most every 30 s while it lasts, one when it
 * is lifted. It decides nothing about delivery (blocked events are retried whatever it says), and
 * it is what makes the output ask for each item's {@code _index} ({@link #watching()}): only while
 * a block is known or one came back without its index.
 *
 * <p>Thread-safe: the output's workers share one.
 */
final class BlockWatch {
    private static final Logger log = LoggerFactory.getLogger(BlockWatch.class);
    /** The name under which a block of the whole cluster (a refused request) is watched. */
    static final String CLUSTER = "the cluster";
    static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final Pattern BACKING_INDEX = Pattern.compile("^\\.ds-(.+)-\\d{4}\\.\\d{2}\\.\\d{2}-\\d+$");

    /** What a call logged. */
    enum Note {
        /** the block is new: logged */
        BLOCKED,
        /** the block lasts, and the last such line is 30 s old: logged again */
        STILL_BLOCKED,
        /** the block lasts: not logged again yet */
        QUIET,
        /** the block is gone: logged */
        LIFTED,
        /** nothing to say */
        NONE
    }

    private final LongSupplier nanoTime;
    /** Index (or {@link #CLUSTER}) → when a block on it was first seen. */
    private final Map<String, Long> since = new ConcurrentHashMap<>();
    private final AtomicLong lastLog = new AtomicLong();
    /** A blocked item came back without its index (it was not asked for): ask for it until blocks are gone. */
    private volatile boolean indexWanted;

    BlockWatch(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** True while the output should ask for each item's {@code _index}: a block is known, or one came without its index. */
    boolean watching() {
        return indexWanted || !since.isEmpty();
    }

    /** The indices (and {@link #CLUSTER}) known to be blocked. */
    Set<String> blocked() {
        return Set.copyOf(since.keySet());
    }

    /** The current time, as this watch reads it: what {@link #lifted} and {@link #response} take as {@code sentAt}. */
    long now() {
        return nanoTime.getAsLong();
    }

    /**
     * What a bulk response said about blocks.
     *
     * @param watched whether the request asked for each item's index
     * @param sentAt  when it was sent ({@link #now()})
     * @param held    how many events the request's blocks hold back, for the log
     */
    void response(boolean watched, long sentAt, RoundOutcome o, int held) {
        if (watched) {
            lifted(CLUSTER, sentAt);     // the cluster answered with items: it takes writes again
        }
        if (o.blockedUnnamed()) {
            indexWanted = true;          // named when the retry answers
        } else if (watched && o.blockedIndices().isEmpty() && since.isEmpty()) {
            indexWanted = false;
        }
        for (Map.Entry<String, String> b : o.blockedIndices().entrySet()) {
            blocked(b.getKey(), b.getValue(), held);
        }
        for (String stream : o.deliveredTo()) {
            if (!o.blockedIndices().containsKey(stream)) {
                lifted(stream, sentAt);
            }
        }
    }

    /** {@code index} refused writes with a block ({@code why}); {@code held} events wait for it. */
    Note blocked(String index, String why, int held) {
        long now = nanoTime.getAsLong();
        Long first = since.putIfAbsent(index, now);
        if (first == null) {
            lastLog.set(now);
            log.warn("elasticsearch blocks writes to {} ({}); delivery to it is paused: events are held and retried with backoff "
                    + "until that changes, none is dropped", index, why);
            return Note.BLOCKED;
        }
        long last = lastLog.get();
        if (now - last > LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
            log.warn("writes to {} still blocked after {} s ({}); {} events held in this request", index,
                    TimeUnit.NANOSECONDS.toSeconds(now - first), why, held);
            return Note.STILL_BLOCKED;
        }
        return Note.QUIET;
    }

    /** A request sent at {@code sentAt} delivered to {@code index}: if that was after its block was seen, the block is gone. */
    Note lifted(String index, long sentAt) {
        Long first = since.get(index);
        if (first != null && sentAt - first > 0 && since.remove(index, first)) {
            log.info("the block on {} is lifted after {} s; held events are being delivered", index,
                    TimeUnit.NANOSECONDS.toSeconds(nanoTime.getAsLong() - first));
            return Note.LIFTED;
        }
        return Note.NONE;
    }

    /**
     * Elasticsearch names the data stream in an item that failed and the backing index in one
     * that succeeded: {@code .ds-<stream>-<yyyy.MM.dd>-<generation>} is brought back to the stream.
     */
    static String dataStream(String index) {
        Matcher m = BACKING_INDEX.matcher(index);
        return m.matches() ? m.group(1) : index;
    }
}
