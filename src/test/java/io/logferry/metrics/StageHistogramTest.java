package io.logferry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The per-stage latency histograms: buckets, the two series by tailer state, and how they read on {@code /metrics}. */
class StageHistogramTest {
    private final Metrics metrics = new Metrics();

    private static long scraped(String text, String nameWithLabels) {
        for (String line : text.split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) {
                return (long) Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
            }
        }
        return -1;
    }

    @Test
    void aValueGoesIntoTheFirstBucketItDoesNotExceed() {
        assertThat(StageHistogram.bucket(0)).isZero();
        assertThat(StageHistogram.bucket(1)).isZero();
        assertThat(StageHistogram.bucket(2)).isEqualTo(1);
        assertThat(StageHistogram.bucket(1000)).isEqualTo(8);
        assertThat(StageHistogram.bucket(1001)).isEqualTo(9);
        assertThat(StageHistogram.bucket(300_000)).isEqualTo(StageHistogram.BUCKETS - 1);
        assertThat(StageHistogram.bucket(300_001)).isEqualTo(StageHistogram.BUCKETS);
        assertThat(StageHistogram.bucket(Long.MAX_VALUE)).isEqualTo(StageHistogram.BUCKETS);
        // every value near every bound, against a plain scan
        for (long bound : StageHistogram.BOUNDS_MILLIS) {
            for (long v = Math.max(0, bound - 3); v <= bound + 3; v++) {
                assertThat(StageHistogram.bucket(v)).as("%d ms", v).isEqualTo(scan(v));
            }
        }
        for (int bits = 0; bits < 63; bits++) {
            long v = 1L << bits;
            assertThat(StageHistogram.bucket(v)).as("%d ms", v).isEqualTo(scan(v));
            assertThat(StageHistogram.bucket(v - 1)).as("%d ms", v - 1).isEqualTo(scan(v - 1));
        }
    }

    private static int scan(long v) {
        int i = 0;
        while (i < StageHistogram.BUCKETS && v > StageHistogram.BOUNDS_MILLIS[i]) {
            i++;
        }
        return i;
    }

    @Test
    void aTallyCountsOnItsThreadAndShowsOnlyOnceFlushed() {
        StageHistogram.Tally t = metrics.readLag().tally();
        t.add(false, 3);
        t.add(false, 700);
        t.add(true, 45_000);
        t.add(false, -20);    // a timestamp ahead of the clock: counted as 0
        assertThat(metrics.readLag().count(false)).isZero();

        t.flush();
        t.flush();            // nothing new: nothing added twice
        String text = metrics.prometheus();
        assertThat(text).contains("# TYPE logferry_event_read_lag_seconds histogram\n");
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"0.001\"}")).isEqualTo(1);
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"0.005\"}")).isEqualTo(2);
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"0.5\"}")).isEqualTo(2);
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"1.0\"}")).isEqualTo(3);
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"+Inf\"}")).isEqualTo(3);
        assertThat(scraped(text, "logferry_event_read_lag_seconds_count{tailer=\"caught_up\"}")).isEqualTo(3);
        assertThat(text).contains("logferry_event_read_lag_seconds_sum{tailer=\"caught_up\"} 0.703\n");
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"behind\",le=\"30.0\"}")).isZero();
        assertThat(scraped(text, "logferry_event_read_lag_seconds_bucket{tailer=\"behind\",le=\"60.0\"}")).isEqualTo(1);
        assertThat(scraped(text, "logferry_event_read_lag_seconds_count{tailer=\"behind\"}")).isEqualTo(1);
    }

    @Test
    void recordAllCountsAStampedBatchInOneGoByTheTailersState() {
        AckTracker tracker = new AckTracker("c1", null);
        LogEvent quiet = event(tracker, 1);
        LogEvent flood = event(tracker, 2);
        LogEvent unstamped = event(tracker, 3);
        quiet.queued(0, false);
        flood.queued(0, true);

        metrics.delivery().recordAll(List.of(quiet, flood, unstamped), 120);
        metrics.delivery().record(true, 4_000, 5);

        assertThat(metrics.delivery().count(false)).isEqualTo(1);
        assertThat(metrics.delivery().count(true)).isEqualTo(6);
        String text = metrics.prometheus();
        assertThat(scraped(text, "logferry_event_delivery_seconds_bucket{tailer=\"behind\",le=\"0.25\"}")).isEqualTo(1);
        assertThat(scraped(text, "logferry_event_delivery_seconds_bucket{tailer=\"behind\",le=\"5.0\"}")).isEqualTo(6);
        assertThat(text).contains("logferry_event_delivery_seconds_sum{tailer=\"behind\"} 20.12\n");
    }

    @Test
    void theThreeStagesAreThereFromTheStartAndCanBeAskedForByName() {
        assertThat(metrics.prometheus()).contains("logferry_event_read_lag_seconds_count{tailer=\"caught_up\"} 0",
                "logferry_event_queue_wait_seconds_count{tailer=\"behind\"} 0", "logferry_event_delivery_seconds_count{tailer=\"caught_up\"} 0",
                "# HELP logferry_event_queue_wait_seconds " + Metric.EVENT_QUEUE_WAIT.help());

        metrics.queueWait().record(false, 30, 2);
        String one = metrics.prometheus(Set.of("logferry_event_queue_wait_seconds_bucket"));
        assertThat(scraped(one, "logferry_event_queue_wait_seconds_bucket{tailer=\"caught_up\",le=\"0.05\"}")).isEqualTo(2);
        assertThat(one).doesNotContain("logferry_event_read_lag_seconds", "logferry_events_acked_total");
    }

    private static LogEvent event(AckTracker tracker, long offset) {
        return new LogEvent(tracker, new byte[] {'x', '\n'}, 0, new Cursor(1, "f", offset));
    }
}
