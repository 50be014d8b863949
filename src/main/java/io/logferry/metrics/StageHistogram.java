package io.logferry.metrics;

import io.logferry.model.LogEvent;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The time events spend in one stage of the agent (issue 25: read lag, queue wait, delivery), as a
 * Prometheus histogram in seconds with fixed buckets ({@value #BUCKETS} bounds from 1 ms to 300 s,
 * then {@code +Inf}), in two series by the tailer's state when the event's line was read:
 * {@code tailer="caught_up"} (the tailer's read before had reached the end of the file: it was
 * waiting for new lines, and the container's own backlog played no part in the line's wait) and
 * {@code tailer="behind"} (it was working through a backlog, or it is the tailer's first read). A
 * quiet container's lines are the first; a flood's, the second.
 *
 * <p>Cheap on the hot path, no allocation: {@link #record} adds {@code n} observations of one
 * value (a batch's events acknowledged together) with three {@link LongAdder} additions; a
 * {@link Tally} counts observations one by one in plain arrays on its owner's thread and adds
 * them to the histogram in {@link Tally#flush()}, once per read or per batch. Values are whole
 * milliseconds; a negative one (a clock that stepped back, a timestamp in the future) counts as 0.
 * Rendered only when {@code /metrics} is scraped.
 *
 * <p>Thread-safety: {@link #record} and scraping from any thread; a {@link Tally} belongs to one thread.
 */
public final class StageHistogram implements Collector {
    /** The buckets' upper bounds, in milliseconds (inclusive, as Prometheus's {@code le}). */
    static final long[] BOUNDS_MILLIS = {1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000};
    static final int BUCKETS = 15;
    private static final double[] BOUNDS_SECONDS = new double[BUCKETS + 1];
    private static final String[] CLASSES = {"caught_up", "behind"};

    static {
        for (int i = 0; i < BUCKETS; i++) {
            BOUNDS_SECONDS[i] = BOUNDS_MILLIS[i] / 1000.0;
        }
        BOUNDS_SECONDS[BUCKETS] = Double.POSITIVE_INFINITY;
    }

    private final String name;
    private final String help;
    /** [class][bucket], not cumulative; the last bucket is +Inf. */
    private final LongAdder[][] counts = new LongAdder[2][BUCKETS + 1];
    private final LongAdder[] sumMillis = {new LongAdder(), new LongAdder()};

    StageHistogram(String name, String help) {
        this.name = name;
        this.help = help;
        for (LongAdder[] c : counts) {
            for (int i = 0; i < c.length; i++) {
                c[i] = new LongAdder();
            }
        }
    }

    /**
     * By the bit length of a value (0 to 63 bits): the first bucket whose bound is at least the
     * smallest value of that length, where {@link #bucket} starts looking (a step or two at most).
     */
    private static final int[] FIRST_BY_BITS = new int[64];

    static {
        for (int bits = 0; bits < 64; bits++) {
            long smallest = bits == 0 ? 0 : 1L << (bits - 1);
            int i = 0;
            while (i < BUCKETS && BOUNDS_MILLIS[i] < smallest) {
                i++;
            }
            FIRST_BY_BITS[bits] = i;
        }
    }

    /** The bucket of a value in milliseconds (not negative): the first bound it does not exceed, or the +Inf bucket. */
    static int bucket(long millis) {
        int i = FIRST_BY_BITS[64 - Long.numberOfLeadingZeros(millis)];
        while (i < BUCKETS && millis > BOUNDS_MILLIS[i]) {
            i++;
        }
        return i;
    }

    /** {@code n} observations of {@code millis}, of events read while their tailer was {@code behind} (or caught up). */
    public void record(boolean behind, long millis, long n) {
        if (n <= 0) {
            return;
        }
        long v = Math.max(0, millis);
        int c = behind ? 1 : 0;
        counts[c][bucket(v)].add(n);
        sumMillis[c].add(v * n);
    }

    /**
     * One observation of {@code millis} for each of {@code events} that its publisher stamped
     * ({@link LogEvent#stamped()}), in the series of its tailer's state: a batch's events
     * acknowledged together, two additions whatever their number.
     */
    public void recordAll(List<LogEvent> events, long millis) {
        long caughtUp = 0;
        long behind = 0;
        for (int i = 0, n = events.size(); i < n; i++) {
            LogEvent e = events.get(i);
            if (e.behind()) {
                behind++;
            } else if (e.stamped()) {
                caughtUp++;
            }
        }
        record(false, millis, caughtUp);
        record(true, millis, behind);
    }

    /** A new single-thread accumulator for this histogram. */
    public Tally tally() {
        return new Tally();
    }

    /** Observations counted on one thread, added to the histogram at {@link #flush()}. Not thread-safe. */
    public final class Tally {
        private final long[][] pending = new long[2][BUCKETS + 1];
        private final long[] pendingSum = new long[2];
        private boolean any;

        private Tally() {
        }

        public void add(boolean behind, long millis) {
            long v = Math.max(0, millis);
            int c = behind ? 1 : 0;
            pending[c][bucket(v)]++;
            pendingSum[c] += v;
            any = true;
        }

        /** Adds what was counted since the last flush to the histogram. */
        public void flush() {
            if (!any) {
                return;
            }
            any = false;
            for (int c = 0; c < 2; c++) {
                long[] p = pending[c];
                for (int i = 0; i < p.length; i++) {
                    if (p[i] != 0) {
                        counts[c][i].add(p[i]);
                        p[i] = 0;
                    }
                }
                if (pendingSum[c] != 0) {
                    sumMillis[c].add(pendingSum[c]);
                    pendingSum[c] = 0;
                }
            }
        }
    }

    /** Observations so far in one series (tests). */
    long count(boolean behind) {
        long n = 0;
        for (LongAdder a : counts[behind ? 1 : 0]) {
            n += a.sum();
        }
        return n;
    }

    @Override
    public MetricSnapshot collect() {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help);
        for (int c = 0; c < 2; c++) {
            long[] perBucket = new long[BUCKETS + 1];   // the text format adds them up into le="…" counts
            for (int i = 0; i <= BUCKETS; i++) {
                perBucket[i] = counts[c][i].sum();
            }
            b.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .labels(Labels.of("tailer", CLASSES[c]))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS_SECONDS, perBucket))
                    .sum(sumMillis[c].sum() / 1000.0)
                    .build());
        }
        return b.build();
    }

    @Override
    public String getPrometheusName() {
        return name;
    }

    @Override
    public MetricType getMetricType() {
        return MetricType.HISTOGRAM;
    }
}
