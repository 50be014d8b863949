package io.logferry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What {@code /metrics} shows: the names and labels the ITs and dashboards read, and the JVM and process metrics. */
class MetricsTest {
    private final Metrics metrics = new Metrics();

    /** The value of one series the way AgentProcess reads it in the ITs: the line that starts with name{labels} and a space. */
    private long scraped(String nameWithLabels) {
        for (String line : metrics.prometheus().split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) {
                return (long) Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
            }
        }
        return -1;
    }

    @Test
    void countersKeepTheirNamesAndLabels() {
        metrics.counter(Metric.EVENTS_READ).add(31_000);
        metrics.counter(Metric.EVENTS_DROPPED, "reason", "line_filter").add(2);
        metrics.counter(Metric.TRUNCATIONS, "container", "app").increment();
        metrics.counter(Metric.EVENTS_ACKED).add(12_345_678_901L);

        assertThat(scraped("logferry_events_read_total")).isEqualTo(31_000);
        assertThat(scraped("logferry_events_dropped_total{reason=\"line_filter\"}")).isEqualTo(2);
        assertThat(scraped("logferry_truncations_total{container=\"app\"}")).isEqualTo(1);
        assertThat(scraped("logferry_events_acked_total")).isEqualTo(12_345_678_901L);
        assertThat(metrics.prometheus()).contains("# TYPE logferry_events_read_total counter\n");
    }

    @Test
    void oneCounterPerNameAndLabelsWhoeverAsks() {
        metrics.counter(Metric.EVENTS_DROPPED, "reason", "stream").increment();
        metrics.counter("logferry_events_dropped_total", "Events dropped", "reason", "stream").increment();

        assertThat(metrics.value(Metric.EVENTS_DROPPED, "reason", "stream")).isEqualTo(2);
        assertThat(metrics.total("logferry_events_dropped_total")).isEqualTo(2);
        assertThat(metrics.value("logferry_events_dropped_total", "reason", "other")).isZero();
    }

    @Test
    void theCatalogueHelpWinsOverACallersHelp() {
        metrics.counter("logferry_events_dropped_total", "Events dropped", "reason", "dead_letter_refused").increment();

        assertThat(metrics.prometheus()).contains("# HELP logferry_events_dropped_total " + Metric.EVENTS_DROPPED.help() + "\n");
    }

    @Test
    void labelValuesAreEscaped() {
        metrics.counter(Metric.LOG_LOSSES, "container", "a\"b\\c\nd").increment();

        assertThat(metrics.prometheus()).contains("logferry_log_losses_total{container=\"a\\\"b\\\\c\\nd\"} 1");
    }

    @Test
    void gaugesAreReadAtEveryScrapeAndCanBeReplacedAndRemoved() {
        AtomicLong depth = new AtomicLong(5);
        metrics.gauge(Metric.QUEUE_EVENTS, depth::get);
        assertThat(scraped("logferry_queue_events")).isEqualTo(5);
        depth.set(9);
        assertThat(scraped("logferry_queue_events")).isEqualTo(9);

        metrics.gauge(Metric.BYTES_BEHIND, () -> 7, "container", "app");
        metrics.gauge(Metric.BYTES_BEHIND, () -> 8, "container", "app");
        assertThat(scraped("logferry_bytes_behind{container=\"app\"}")).isEqualTo(8);

        metrics.removeGauge(Metric.BYTES_BEHIND, "container", "app");
        assertThat(metrics.prometheus()).doesNotContain("logferry_bytes_behind{");
        metrics.gauge(Metric.BYTES_BEHIND, () -> 3, "container", "app");
        assertThat(scraped("logferry_bytes_behind{container=\"app\"}")).isEqualTo(3);
    }

    @Test
    void bulkLatencyIsAHistogramInSecondsWithFixedBuckets() {
        metrics.bulkLatency().observe(0.02);
        metrics.bulkLatency().observe(3);

        assertThat(metrics.prometheus()).contains("# TYPE logferry_bulk_request_duration_seconds histogram\n");
        assertThat(scraped("logferry_bulk_request_duration_seconds_bucket{le=\"0.01\"}")).isZero();
        assertThat(scraped("logferry_bulk_request_duration_seconds_bucket{le=\"0.025\"}")).isEqualTo(1);
        assertThat(scraped("logferry_bulk_request_duration_seconds_bucket{le=\"5.0\"}")).isEqualTo(2);
        assertThat(scraped("logferry_bulk_request_duration_seconds_bucket{le=\"30.0\"}")).isEqualTo(2);
        assertThat(scraped("logferry_bulk_request_duration_seconds_bucket{le=\"+Inf\"}")).isEqualTo(2);
        assertThat(scraped("logferry_bulk_request_duration_seconds_count")).isEqualTo(2);
    }

    @Test
    void jvmAndProcessMetricsAreThere() {
        String text = metrics.prometheus();

        assertThat(scraped("process_cpu_seconds_total")).isNotNegative();
        assertThat(scraped("process_resident_memory_bytes")).isPositive();
        assertThat(scraped("process_open_fds")).isPositive();
        assertThat(scraped("jvm_threads_live_threads")).isPositive();
        assertThat(text).contains("jvm_memory_used_bytes{area=\"heap\"", "# TYPE jvm_gc_collection_seconds summary",
                "jvm_gc_collection_seconds_count{gc=");
    }

    @Test
    void aForgottenContainersSeriesGoAndTheOthersStay() {
        Metrics m = new Metrics();
        m.counter(Metric.LOG_LOSSES, "container", "web").add(2);
        m.counter(Metric.TRUNCATIONS, "container", "web").increment();
        m.counter(Metric.TRUNCATIONS, "container", "db").increment();
        m.gauge(Metric.BYTES_BEHIND, () -> 7, "container", "web");
        m.counter(Metric.EVENTS_DROPPED, "reason", "stream").increment();
        assertThat(m.prometheus()).contains("container=\"web\"");

        assertThat(m.forget("container", "web")).isEqualTo(3);
        String page = m.prometheus();
        assertThat(page).doesNotContain("container=\"web\"").contains("container=\"db\"").contains("reason=\"stream\"");
        assertThat(m.value(Metric.LOG_LOSSES, "container", "web")).isZero();
        m.counter(Metric.LOG_LOSSES, "container", "web").increment();
        assertThat(m.prometheus()).as("a container of that name later starts its series again").contains("container=\"web\"");
        assertThat(m.forget("container", "nobody")).isZero();
    }
}
