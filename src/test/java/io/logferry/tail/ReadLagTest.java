package io.logferry.tail;

import static org.assertj.core.api.Assertions.assertThat;

import io.logferry.metrics.Metrics;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A tailer's read lag: each line's Docker time against its read's, and caught up or behind by the read before. */
class ReadLagTest {
    private final Metrics metrics = new Metrics();
    private final ReadLag lag = new ReadLag(metrics.readLag());
    private static final long T = Instant.parse("2026-12-08T02:00:00Z").toEpochMilli();

    private long scraped(String series) {
        for (String line : metrics.prometheus().split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return -1;
    }

    @Test
    void aBacklogIsBehindToItsLastReadAndTheLinesAfterAWaitAreCaughtUp() {
        // the first read, of a backlog: full buffer; then the backlog's last read reaches the end: both behind
        assertThat(lag.read(false, T + 60_000)).isTrue();
        lag.entry("2026-12-08T02:00:00.000000000Z");
        assertThat(lag.read(true, T + 60_000)).isTrue();
        lag.entry("2026-12-08T02:00:00.500000000Z");
        lag.flush();
        // after the wait, a new line: caught up; a burst that fills the buffer after the wait too, and the read after it behind
        assertThat(lag.read(true, T + 70_003)).isFalse();
        lag.entry("2026-12-08T02:01:10.000999999Z");
        assertThat(lag.read(false, T + 80_000)).isFalse();
        lag.entry("2026-12-08T02:01:19.800Z");
        lag.entry("not a time");                      // not counted
        assertThat(lag.read(true, T + 80_010)).isTrue();
        lag.entry("2026-12-08T02:01:20.010Z");
        assertThat(scraped("logferry_event_read_lag_seconds_count{tailer=\"caught_up\"}")).as("counted at the flush").isZero();
        lag.flush();

        assertThat(scraped("logferry_event_read_lag_seconds_count{tailer=\"behind\"}")).isEqualTo(3);
        assertThat(scraped("logferry_event_read_lag_seconds_bucket{tailer=\"behind\",le=\"0.001\"}")).isEqualTo(1);
        assertThat(scraped("logferry_event_read_lag_seconds_bucket{tailer=\"behind\",le=\"60.0\"}")).isEqualTo(3);
        assertThat(scraped("logferry_event_read_lag_seconds_count{tailer=\"caught_up\"}")).isEqualTo(2);
        assertThat(scraped("logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"0.005\"}")).as("3 ms").isEqualTo(1);
        assertThat(scraped("logferry_event_read_lag_seconds_bucket{tailer=\"caught_up\",le=\"0.25\"}")).as("200 ms").isEqualTo(2);
    }
}
