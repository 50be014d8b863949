package io.logferry.process;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The small processors: {@code add_fields}, {@code add_tags}, {@code drop_fields}, {@code rename}, {@code drop_event}, and {@code when}. */
final class Simple {
    private Simple() {
    }

    /** {@code add_fields}: {@code fields} put under {@code target} ({@code fields} by default; "" the root), replacing what is there. */
    record AddFields(String target, Map<String, String> fields) implements Processor {
        AddFields {
            fields = new LinkedHashMap<>(fields);
            if (!target.isEmpty()) {
                Fields.path(target);
            }
            fields.keySet().forEach(Fields::path);
        }

        @Override
        public Outcome run(Map<String, Object> event) {
            for (Map.Entry<String, String> f : fields.entrySet()) {
                Fields.put(event, Fields.path(target.isEmpty() ? f.getKey() : target + "." + f.getKey()), f.getValue(), true);
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "add_fields target=" + Chain.quote(target) + " fields=" + fields.entrySet().stream()
                    .map(e -> e.getKey() + ":" + Chain.quote(e.getValue())).collect(Collectors.joining(",", "{", "}"));
        }
    }

    /** {@code add_tags}: {@code tags} appended to the list at {@code target} ({@code tags} by default). */
    record AddTags(String target, List<String> tags) implements Processor {
        AddTags {
            tags = List.copyOf(tags);
            Fields.path(target);
        }

        @Override
        public Outcome run(Map<String, Object> event) {
            String[] path = Fields.path(target);
            Object at = Fields.get(event, path);
            List<Object> list = new ArrayList<>();
            if (at instanceof List<?> l) {
                list.addAll(l);
            } else if (at != null) {
                list.add(at);
            }
            list.addAll(tags);
            Fields.put(event, path, list, true);
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "add_tags target=" + Chain.quote(target) + " tags=" + tags;
        }
    }

    /** {@code drop_fields}: removes {@code fields}; a missing one is an error unless {@code ignore_missing}. */
    record DropFields(List<String> fields, boolean ignoreMissing) implements Processor {
        DropFields {
            fields = List.copyOf(fields);
            fields.forEach(Fields::path);
        }

        @Override
        public Outcome run(Map<String, Object> event) {
            boolean missing = false;
            for (String f : fields) {
                missing |= !Fields.delete(event, Fields.path(f));
            }
            return missing && !ignoreMissing ? Outcome.STOP : Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "drop_fields fields=" + fields + (ignoreMissing ? " ignore_missing=true" : "");
        }
    }

    /** One {@code from} → {@code to} of {@code rename}. */
    record Pair(String from, String to) {
        Pair {
            Fields.path(from);
            Fields.path(to);
        }
    }

    /**
     * {@code rename}: each {@code from} moved to {@code to}, in order. A missing {@code from}
     * (unless {@code ignore_missing}) or a {@code to} already there is an error: with
     * {@code fail_on_error} (the default) the event is put back as it was before this processor.
     */
    record Rename(List<Pair> fields, boolean ignoreMissing, boolean failOnError) implements Processor {
        Rename {
            fields = List.copyOf(fields);
        }

        @Override
        public Outcome run(Map<String, Object> event) {
            List<Pair> done = new ArrayList<>();
            for (Pair p : fields) {
                String[] from = Fields.path(p.from());
                String[] to = Fields.path(p.to());
                boolean error;
                if (!Fields.has(event, from)) {
                    error = !ignoreMissing;
                } else if (Fields.has(event, to)) {
                    error = true;
                } else {
                    Object v = Fields.take(event, from);
                    Fields.put(event, to, v, true);
                    done.add(p);
                    continue;
                }
                if (error && failOnError) {
                    for (int i = done.size() - 1; i >= 0; i--) {
                        Object v = Fields.take(event, Fields.path(done.get(i).to()));
                        Fields.put(event, Fields.path(done.get(i).from()), v, true);
                    }
                    return Outcome.STOP;
                }
            }
            return Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return "rename fields=" + fields.stream().map(p -> p.from() + "->" + p.to()).collect(Collectors.joining(",", "[", "]"))
                    + (ignoreMissing ? " ignore_missing=true" : "") + (failOnError ? "" : " fail_on_error=false");
        }
    }

    /** {@code drop_event}: drops every event it runs on (give it a {@code when}). */
    record DropEvent() implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            return Outcome.DROP;
        }

        @Override
        public String describe() {
            return "drop_event";
        }
    }

    /** A processor with a {@code when}: it runs only on the events the condition matches. */
    record When(Condition when, Processor then) implements Processor {
        @Override
        public Outcome run(Map<String, Object> event) {
            return when.test(event) ? then.run(event) : Outcome.CONTINUE;
        }

        @Override
        public String describe() {
            return then.describe() + " when " + when.describe();
        }
    }
}
