package io.logferry.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The agent's counters and gauges, exposed in the Prometheus text format on {@code /metrics}.
 * Counters are {@link LongAdder}s so that tailers and workers count without contention.
 * Names follow Prometheus conventions: {@code logferry_<what>_<unit>_total}.
 */
public final class Metrics {
    private record Key(String name, String labels) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = name.compareTo(o.name);
            return c != 0 ? c : labels.compareTo(o.labels);
        }
    }

    private final Map<Key, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<Key, LongSupplier> gauges = new ConcurrentHashMap<>();
    private final Map<String, String> help = new ConcurrentHashMap<>();
    private final Histogram bulkLatency = new Histogram(new double[] {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});

    public LongAdder counter(String name, String helpText, String... labelPairs) {
        help.putIfAbsent(name, helpText);
        return counters.computeIfAbsent(new Key(name, labels(labelPairs)), k -> new LongAdder());
    }

    public void gauge(String name, String helpText, LongSupplier value, String... labelPairs) {
        help.putIfAbsent(name, helpText);
        gauges.put(new Key(name, labels(labelPairs)), value);
    }

    public void removeGauge(String name, String... labelPairs) {
        gauges.remove(new Key(name, labels(labelPairs)));
    }

    public long value(String name, String... labelPairs) {
        LongAdder a = counters.get(new Key(name, labels(labelPairs)));
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

    private static String labels(String... pairs) {
        if (pairs.length == 0) {
            return "";
        }
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (i > 0) {
                b.append(',');
            }
            b.append(pairs[i]).append("=\"").append(pairs[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
        }
        return b.append('}').toString();
    }

    public String prometheus() {
        StringBuilder out = new StringBuilder(4096);
        String last = null;
        for (Map.Entry<Key, LongAdder> e : new TreeMap<>(counters).entrySet()) {
            last = header(out, last, e.getKey().name, "counter");
            out.append(e.getKey().name).append(e.getKey().labels).append(' ').append(e.getValue().sum()).append('\n');
        }
        for (Map.Entry<Key, LongSupplier> e : new TreeMap<>(gauges).entrySet()) {
            last = header(out, last, e.getKey().name, "gauge");
            out.append(e.getKey().name).append(e.getKey().labels).append(' ').append(e.getValue().getAsLong()).append('\n');
        }
        header(out, null, "logferry_bulk_request_duration_seconds", "histogram");
        bulkLatency.write(out, "logferry_bulk_request_duration_seconds");
        return out.toString();
    }

    private String header(StringBuilder out, String last, String name, String type) {
        if (!name.equals(last)) {
            out.append("# HELP ").append(name).append(' ').append(help.getOrDefault(name, name)).append('\n');
            out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        }
        return name;
    }

    /** A fixed-bucket histogram of seconds. */
    public static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] buckets;
        private final LongAdder count = new LongAdder();
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.buckets = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        public void observe(double seconds) {
            for (int i = 0; i < bounds.length; i++) {
                if (seconds <= bounds[i]) {
                    buckets[i].increment();
                }
            }
            count.increment();
            sum.add(seconds);
        }

        void write(StringBuilder out, String name) {
            for (int i = 0; i < bounds.length; i++) {
                out.append(name).append("_bucket{le=\"").append(bounds[i]).append("\"} ").append(buckets[i].sum()).append('\n');
            }
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
            out.append(name).append("_sum ").append(sum.sum()).append('\n');
            out.append(name).append("_count ").append(count.sum()).append('\n');
        }
    }
}
