package io.logferry.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which of a container's labels go into its documents ({@code container.labels.*}, and the
 * constant fields of {@code logferry.fields.*}), so that no container can make its documents
 * large, or push an index past its field limit. Labels are taken in key order; a key's dots
 * become {@code _}. A label is left out when its key is blank or collides with one already kept
 * after that replacement (Elasticsearch refuses a document with a duplicate or blank field name),
 * when {@code maxCount} labels are kept already, or when its key and value would take the kept
 * labels beyond {@code maxBytes} UTF-8 bytes (then no later label is kept either). A value longer
 * than {@link #MAX_VALUE_BYTES} is cut there, at a character boundary. Pure.
 */
public final class ContainerLabels {
    /** A single value in a document is cut at this many UTF-8 bytes: one label cannot dominate. */
    public static final int MAX_VALUE_BYTES = 1024;

    private ContainerLabels() { }

    /**
     * @param kept      the document's labels, keys with {@code _} for dots, in key order
     * @param dropped   labels left out (blank or colliding key, beyond the count or the bytes)
     * @param truncated values kept but cut at {@link #MAX_VALUE_BYTES}
     */
    public record Cut(SortedMap<String, String> kept, int dropped, int truncated, String why) {
        public boolean any() {
            return dropped > 0 || truncated > 0;
        }

        /** What was cut, for a warning: {@code 250 of 350 labels left out (limits.container_labels_max_count 100)}. */
        public String describe(int total) {
            StringBuilder b = new StringBuilder();
            if (dropped > 0) {
                b.append(dropped).append(" of ").append(total).append(" labels left out (").append(why).append(')');
            }
            if (truncated > 0) {
                b.append(b.isEmpty() ? "" : ", ").append(truncated).append(truncated == 1 ? " value" : " values")
                        .append(" cut at ").append(MAX_VALUE_BYTES).append(" bytes");
            }
            return b.toString();
        }
    }

    public static Cut cap(Map<String, String> labels, int maxCount, int maxBytes) {
        if (labels.isEmpty()) {
            return new Cut(Collections.emptySortedMap(), 0, 0, "");
        }
        SortedMap<String, String> kept = new TreeMap<>();
        Map<String, String> why = new LinkedHashMap<>();
        int dropped = 0;
        int truncated = 0;
        long bytes = 0;
        boolean full = false;
        for (Map.Entry<String, String> l : new TreeMap<>(labels).entrySet()) {
            String key = l.getKey().replace('.', '_');
            if (full) {
                dropped++;
                continue;
            }
            if (key.isBlank() || kept.containsKey(key)) {
                dropped++;
                why.putIfAbsent("key", "blank or colliding keys");
                continue;
            }
            if (kept.size() >= maxCount) {
                dropped++;
                why.putIfAbsent("count", "limits.container_labels_max_count " + maxCount);
                full = true;
                continue;
            }
            String value = Utf8.truncate(l.getValue(), MAX_VALUE_BYTES);
            long size = Utf8.length(key) + Utf8.length(value);
            if (bytes + size > maxBytes) {
                dropped++;
                why.putIfAbsent("bytes", "limits.container_labels_max_bytes " + maxBytes);
                full = true;
                continue;
            }
            if (value.length() != l.getValue().length()) {
                truncated++;
            }
            bytes += size;
            kept.put(key, value);
        }
        return new Cut(Collections.unmodifiableSortedMap(kept), dropped, truncated, String.join(", ", why.values()));
    }
}
