package io.logferry.metrics;

import io.logferry.model.FieldTree;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The agent's counters, gauges, the bulk latency histogram and the per-stage latency histograms
 * ({@link StageHistogram}), exposed in the Prometheus text
 * format on {@code /metrics} through Micrometer's Prometheus registry, together with the JVM and
 * process metrics operators expect (heap and other memory pools, GC counts and times, threads, classes,
 * {@code process_cpu_seconds_total}, {@code process_resident_memory_bytes},
 * {@code process_open_fds}).
 *
 * <p>This class is the one facade the rest of the code calls. Names and help texts come from the
 * {@link Metric} catalogue; a name outside it (tests) keeps the help it is given.
 *
 * <p>Hot path: a counter is a {@link LongAdder} that the caller keeps and increments; the
 * registry reads it through a {@link FunctionCounter} only when {@code /metrics} is scraped, so
 * counting costs what it cost before Micrometer (one {@code LongAdder.increment()}).
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public final class Metrics {
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};

    private record Key(String name, Tags tags) {
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<Key, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<Key, LongSupplier> gauges = new ConcurrentHashMap<>();
    private final Histogram bulkLatency;
    private final StageHistogram readLag = stage(Metric.EVENT_READ_LAG);
    private final StageHistogram queueWait = stage(Metric.EVENT_QUEUE_WAIT);
    private final StageHistogram delivery = stage(Metric.EVENT_DELIVERY);

    public Metrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        ProcessMetrics.builder().register(registry.getPrometheusRegistry());
        // GC counts and times read from the collectors' MXBeans at each scrape: Micrometer's
        // JvmGcMetrics listens to a notification per collection instead, which cost about 1% of
        // the agent's CPU at full speed (a young collection every 20 ms).
        JvmGarbageCollectorMetrics.builder().register(registry.getPrometheusRegistry());
        // the field tree's counters are process-wide (model.FieldTree counts where it cuts; it knows no registry)
        for (FieldTree.Cut cut : FieldTree.Cut.values()) {
            FunctionCounter.builder(Metric.FIELDS_CUT.metricName(), cut.counter(), LongAdder::sum).description(Metric.FIELDS_CUT.help())
                    .tags("reason", cut.reason()).register(registry);
            counters.put(new Key(Metric.FIELDS_CUT.metricName(), tags(new String[] {"reason", cut.reason()})), cut.counter());
        }
        // a Timer is exposed in seconds: logferry_bulk_request_duration_seconds
        bulkLatency = new Histogram(Timer.builder("logferry_bulk_request_duration")
                .description(Metric.BULK_REQUEST_DURATION.help())
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .register(registry));
    }

    public LongAdder counter(Metric metric, String... labelPairs) {
        return counter(metric.metricName(), metric.help(), labelPairs);
    }

    /** A counter; the catalogue's help text wins over {@code helpText} for a name in {@link Metric}. */
    public LongAdder counter(String name, String helpText, String... labelPairs) {
        Key key = new Key(name, tags(labelPairs));
        LongAdder a = counters.get(key);
        return a != null ? a : counters.computeIfAbsent(key, k -> register(k, helpText));
    }

    private LongAdder register(Key k, String helpText) {
        LongAdder a = new LongAdder();
        FunctionCounter.builder(k.name, a, LongAdder::sum).description(help(k.name, helpText)).tags(k.tags).register(registry);
        return a;
    }

    public void gauge(Metric metric, LongSupplier value, String... labelPairs) {
        gauge(metric.metricName(), metric.help(), value, labelPairs);
    }

    /** A gauge read from {@code value} at every scrape; registering the same name and labels again replaces the supplier. */
    public void gauge(String name, String helpText, LongSupplier value, String... labelPairs) {
        Key key = new Key(name, tags(labelPairs));
        gauges.compute(key, (k, old) -> {
            if (old == null) {
                Gauge.builder(name, this, m -> m.read(k)).description(help(name, helpText)).tags(k.tags).strongReference(true)
                        .register(registry);
            }
            return value;
        });
    }

    public void removeGauge(Metric metric, String... labelPairs) {
        removeGauge(metric.metricName(), labelPairs);
    }

    public void removeGauge(String name, String... labelPairs) {
        Key key = new Key(name, tags(labelPairs));
        gauges.computeIfPresent(key, (k, old) -> {
            Meter m = registry.find(name).tags(k.tags).gauge();
            if (m != null) {
                registry.remove(m);
            }
            return null;
        });
    }

    /**
     * Removes every counter and gauge series that carries the label {@code name="value"} (a container
     * forgotten: on a host that runs thousands of short containers a day its series must not stay for
     * good). A holder of one of its counters may still increment it; nothing shows that any more.
     *
     * @return how many series were removed
     */
    public int forget(String name, String value) {
        Tag tag = Tag.of(name, value);
        int removed = 0;
        for (Key k : counters.keySet()) {
            if (k.tags.stream().anyMatch(tag::equals) && counters.remove(k) != null) {
                Meter m = registry.find(k.name).tags(k.tags).meter();
                if (m != null) {
                    registry.remove(m);
                }
                removed++;
            }
        }
        for (Key k : gauges.keySet()) {
            if (k.tags.stream().anyMatch(tag::equals)) {
                gauges.computeIfPresent(k, (key, old) -> {
                    Meter m = registry.find(key.name).tags(key.tags).gauge();
                    if (m != null) {
                        registry.remove(m);
                    }
                    return null;
                });
                removed++;
            }
        }
        return removed;
    }

    private double read(Key k) {
        LongSupplier s = gauges.get(k);
        return s == null ? Double.NaN : s.getAsLong();
    }

    public long value(Metric metric, String... labelPairs) {
        return value(metric.metricName(), labelPairs);
    }

    public long value(String name, String... labelPairs) {
        LongAdder a = counters.get(new Key(name, tags(labelPairs)));
        return a == null ? 0 : a.sum();
    }

    /** The sum of a counter over all its label values. */
    public long total(String name) {
        long sum = 0;
        for (Map.Entry<Key, LongAdder> e : counters.entrySet()) {
            if (e.getKey().name.equals(name)) {
                sum += e.getValue().sum();
            }
        }
        return sum;
    }

    public Histogram bulkLatency() {
        return bulkLatency;
    }

    /** Docker's timestamp of a json-file line → the read that brought it in (the file tailers). */
    public StageHistogram readLag() {
        return readLag;
    }

    /** An event handed to the queue → taken into a bulk request (the batcher). */
    public StageHistogram queueWait() {
        return queueWait;
    }

    /** An event's batch taken by an output worker → the event acknowledged (the outputs). */
    public StageHistogram delivery() {
        return delivery;
    }

    private StageHistogram stage(Metric m) {
        StageHistogram h = new StageHistogram(m.metricName(), m.help());
        registry.getPrometheusRegistry().register(h);
        return h;
    }

    /** Everything in the Prometheus text format (version 0.0.4). */
    public String prometheus() {
        return registry.scrape();
    }

    /**
     * Only the metrics named, by their exposed name ({@code logferry_events_acked_total}) or
     * without the suffix the format adds to a counter or histogram sample ({@code _total},
     * {@code _count}, {@code _sum}, {@code _bucket}): what a poller that wants one number asks for.
     * Rendering everything costs about 6 ms of CPU once warm (the text writer escapes every help
     * text a character at a time), rendering one metric a small part of that.
     */
    public String prometheus(Set<String> names) {
        Set<String> wanted = new HashSet<>();
        for (String n : names) {
            wanted.add(n);
            for (String suffix : SAMPLE_SUFFIXES) {
                if (n.endsWith(suffix)) {
                    wanted.add(n.substring(0, n.length() - suffix.length()));
                }
            }
        }
        return registry.scrape(TEXT_FORMAT, wanted);
    }

    private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String[] SAMPLE_SUFFIXES = {"_total", "_count", "_sum", "_bucket", "_created"};

    private static String help(String name, String given) {
        Metric m = Metric.named(name);
        return m != null ? m.help() : given;
    }

    private static Tags tags(String... pairs) {
        if (pairs.length % 2 != 0) {
            throw new IllegalArgumentException("label pairs must come in twos: " + Arrays.toString(pairs));
        }
        return pairs.length == 0 ? Tags.empty() : Tags.of(pairs);
    }

    /** A histogram of seconds with fixed buckets (5 ms to 30 s). */
    public static final class Histogram {
        private final Timer timer;

        Histogram(Timer timer) {
            this.timer = timer;
        }

        public void observe(double seconds) {
            timer.record((long) (seconds * 1e9), TimeUnit.NANOSECONDS);
        }
    }
}
