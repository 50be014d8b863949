package io.logferry.metrics;

/**
 * The catalogue of logferry's own metrics: every name and help text in one place, so that two
 * classes counting the same thing cannot describe it differently (the first registration's help
 * used to win). docs/operations.md lists the same metrics; {@code MetricTest} checks that it does.
 *
 * <p>Names follow Prometheus conventions ({@code logferry_<what>_<unit>_total} for counters);
 * labels are given where a metric is registered, not here.
 */
public enum Metric {
    // tailers
    EVENTS_READ("logferry_events_read_total", Type.COUNTER, "Events read from container logs and published to the queue"),
    EVENTS_TRUNCATED("logferry_events_truncated_total", Type.COUNTER,
            "Events cut at max_bytes (or multiline.max_lines) and flagged truncated: the bytes beyond were counted, not kept"),
    EVENTS_DROPPED("logferry_events_dropped_total", Type.COUNTER,
            "Events dropped, by reason: line_filter, stream (left out by the container's settings), drop_event (a drop_event "
                    + "processor), dead_letter_refused, dead_letter_forbidden (dead letters Elasticsearch refused too), failed (a line "
                    + "that could not become a document nor a dead letter)"),
    DISSECT_FAILURES("logferry_dissect_failures_total", Type.COUNTER,
            "Events a dissect processor could not parse: shipped as they were, flagged log.flags: dissect_parsing_error"),
    LINES_CONTAINED("logferry_lines_contained_total", Type.COUNTER,
            "Lines or messages that could not become documents, dead-lettered as read with the error, by reason: error (their "
                    + "decoding, processing or encoding threw), in_flight (being processed when the agent exited)"),
    LINES_MALFORMED("logferry_lines_malformed_total", Type.COUNTER, "json-file lines that could not be decoded and were skipped"),
    API_BYTES_DROPPED("logferry_api_bytes_dropped_total", Type.COUNTER,
            "Bytes of lines read through the Docker logs API beyond max_bytes: not kept, the message flagged truncated"),
    LOG_LOSSES("logferry_log_losses_total", Type.COUNTER,
            "Times a log file was deleted by Docker's rotation before it was read to its end"),
    LOG_LOST_BYTES("logferry_log_lost_bytes_total", Type.COUNTER,
            "Bytes of log files released unread (held rotated files beyond limits.held_*)"),
    TRUNCATIONS("logferry_truncations_total", Type.COUNTER,
            "Times a live log file was truncated in place (its size fell below the read offset) and was read again from offset 0"),
    SPOOL_BYTES("logferry_spool_bytes", Type.GAUGE,
            "Bytes the spool occupies (segments with their headers, directories and descriptions, in 4 KiB blocks), bounded by spool.max_bytes"),
    SPOOL_FILES("logferry_spool_files", Type.GAUGE, "Spool files (one per spooled byte range of a log file)"),
    SPOOLED_BYTES("logferry_spooled_bytes_total", Type.COUNTER, "Bytes copied into the spool"),
    SPOOL_LOST_BYTES("logferry_spool_lost_bytes_total", Type.COUNTER,
            "Bytes that should have gone to the spool and did not fit, or spooled bytes no tailer will read, by reason (spool_limit: beyond spool.max_bytes or the container's fair share of it; segment_limit: beyond spool.max_segments_per_container; not_shipped: swept at start)"),
    SPOOL_SWEPT_FILES("logferry_spool_swept_files_total", Type.COUNTER,
            "Files in the spool the agent could not use, deleted at start, by reason (temporary: half-written by a crash; other_version: a segment of another format version; unreadable: a segment whose header does not match; unknown: a file the agent did not write)"),
    BUFFERS_BYTES("logferry_buffers_bytes", Type.GAUGE,
            "UTF-8 bytes held in per-container buffers (partial lines, multiline events, API line buffers), bounded by limits.buffers_max_bytes"),
    BUFFERS_CUT("logferry_buffers_cut_total", Type.COUNTER,
            "Per-container buffers cut because limits.buffers_max_bytes was reached: sent as they were, flagged truncated"),
    HELD_BYTES("logferry_held_bytes", Type.GAUGE, "Unread bytes of rotated log files held open beyond the ones being read"),
    BYTES_BEHIND("logferry_bytes_behind", Type.GAUGE, "Bytes in a container's log files not read yet"),
    TAILERS_ACTIVE("logferry_tailers_active", Type.GAUGE, "Containers being tailed"),
    TAILER_RESTARTS("logferry_tailer_restarts_total", Type.COUNTER,
            "Tailers that failed and were started again (after a backoff), per container"),

    // labels
    LABEL_WARNINGS("logferry_label_warnings_total", Type.COUNTER, "Label values refused or lowered to a limit (every label warning)"),
    LABEL_REFUSALS("logferry_label_refusals_total", Type.COUNTER, "Label values refused or lowered, by reason"),
    CONTAINER_LABELS_CUT("logferry_container_labels_cut_total", Type.COUNTER,
            "Container labels left out of container.labels.* or cut short"),
    FIELDS_CUT("logferry_fields_cut_total", Type.COUNTER,
            "Content fields (decoded JSON, processor output) kept flat beyond limits.field_max_depth, left out beyond "
                    + "limits.field_max_count, or with a key cut at limits.field_max_key_bytes, by reason: depth, count, key_bytes"),
    LABEL_DATA_STREAMS("logferry_label_data_streams", Type.GAUGE,
            "Distinct data streams chosen by labels (labels.max_data_streams caps them)"),

    // queue and batcher
    QUEUE_EVENTS("logferry_queue_events", Type.GAUGE, "Events in the queue"),
    QUEUE_BYTES("logferry_queue_bytes", Type.GAUGE, "Bytes in the queue"),
    BULK_REQUESTS_IN_FLIGHT("logferry_bulk_requests_in_flight", Type.GAUGE, "Batches being delivered"),
    LANES_PARKED("logferry_lanes_parked", Type.GAUGE,
            "Containers whose queue lane is parked: the destination their labels chose keeps failing; retried with backoff"),

    // output
    EVENTS_ACKED("logferry_events_acked_total", Type.COUNTER, "Events acknowledged by the output"),
    EVENTS_DUPLICATE("logferry_events_duplicate_total", Type.COUNTER,
            "Events Elasticsearch already had (409 on create): replays absorbed by the _id"),
    EVENTS_RETRIED("logferry_events_retried_total", Type.COUNTER, "Event deliveries retried (429, 5xx, blocks, failed requests)"),
    EVENTS_BLOCKED("logferry_events_blocked_total", Type.COUNTER,
            "Event deliveries refused by an index or cluster block (403), held and retried"),
    EVENTS_RETYPED("logferry_events_retyped_total", Type.COUNTER,
            "Events Elasticsearch refused for a mapping conflict (another container gave their fields other types) and took "
                    + "when sent again with their decoded fields under logferry.flattened"),
    EVENTS_PARKED("logferry_events_parked_total", Type.COUNTER,
            "Events handed back to their container's lane because the ingest pipeline or data stream its labels chose keeps "
                    + "failing (5xx items, a write block): the lane waits with backoff while the other containers go on"),
    EVENTS_FORBIDDEN("logferry_events_forbidden_total", Type.COUNTER,
            "Events Elasticsearch refused with 401/403 that is not a block (no privilege on the index): dead-lettered, never retried"),
    EVENTS_DEAD_LETTERED("logferry_events_dead_lettered_total", Type.COUNTER,
            "Events Elasticsearch refused, written to the dead-letter data stream"),
    BULK_REQUESTS_FAILED("logferry_bulk_requests_failed_total", Type.COUNTER, "Bulk requests that got no usable response"),
    BULK_REQUEST_DURATION("logferry_bulk_request_duration_seconds", Type.HISTOGRAM, "Latency of bulk requests"),
    EVENT_READ_LAG("logferry_event_read_lag_seconds", Type.HISTOGRAM,
            "Per json-file line: Docker's timestamp of the line to the read that brought it in, by tailer (caught_up: the read "
                    + "before it had reached the end of the file; behind: the tailer was reading a backlog, or its first read)"),
    EVENT_QUEUE_WAIT("logferry_event_queue_wait_seconds", Type.HISTOGRAM,
            "Per event: handed to the queue by its tailer to taken into a bulk request (the batcher's flush_interval and the wait "
                    + "for a free worker included), by tailer (caught_up, behind)"),
    EVENT_DELIVERY("logferry_event_delivery_seconds", Type.HISTOGRAM,
            "Per event: its batch taken by an output worker to the event acknowledged (its requests and their retries), by "
                    + "tailer (caught_up, behind)"),
    CIRCUIT_OPENED("logferry_output_circuit_opened_total", Type.COUNTER,
            "Times the circuit breaker opened because Elasticsearch failed"),
    CIRCUIT_STATE("logferry_output_circuit_state", Type.GAUGE,
            "Circuit breaker in front of Elasticsearch: 0 closed, 1 open, 2 half-open (probing)"),
    CIRCUIT_RESUMED("logferry_output_circuit_resumed_total", Type.COUNTER,
            "Times the open circuit breaker went half-open at once because Elasticsearch answered again (the health probe "
                    + "or a template request), instead of waiting out its backoff"),
    OUTPUT_READY("logferry_output_ready", Type.GAUGE,
            "1 once the output's setup (the index template) has run and it sends; 0 while it waits for Elasticsearch at start"),
    TEMPLATES_SKIPPED("logferry_templates_skipped_total", Type.COUNTER,
            "Index templates logferry did not put, by reason: not_ours (a template of that name that logferry did not create), "
                    + "would_shadow (a template of someone else's for that dataset), refused (Elasticsearch refused it)"),

    // http
    ELASTICSEARCH_UP("logferry_elasticsearch_up", Type.GAUGE, "1 when Elasticsearch answered the last probe (every 3 s; every 0.5 s while it does not answer), else 0"),
    HTTP_REQUESTS_REFUSED("logferry_http_requests_refused_total", Type.COUNTER,
            "HTTP requests refused: timeout (the request did not arrive in time), too_large (a request head over 8192 bytes), "
                    + "busy (32 connections open already)");

    /** How Prometheus sees the metric. */
    public enum Type { COUNTER, GAUGE, HISTOGRAM }

    private final String name;
    private final Type type;
    private final String help;

    Metric(String name, Type type, String help) {
        this.name = name;
        this.type = type;
        this.help = help;
    }

    /** The name as it appears on {@code /metrics} (counters with their {@code _total}). */
    public String metricName() {
        return name;
    }

    public Type type() {
        return type;
    }

    public String help() {
        return help;
    }

    /** The catalogue entry of that name, or null. */
    public static Metric named(String name) {
        for (Metric m : values()) {
            if (m.name.equals(name)) {
                return m;
            }
        }
        return null;
    }
}
