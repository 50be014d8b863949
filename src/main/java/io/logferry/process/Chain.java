package io.logferry.process;

import io.logferry.model.Printable;
import io.logferry.model.ProcessorChain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A container's processors in the order its labels give them: each runs on the event the one
 * before left, a failure ends the chain (the event kept as it is), a {@code drop_event} drops it.
 * Immutable and thread-safe.
 *
 * @param refused the processors its labels named that were refused and left out, each as
 *                {@code <label prefix>.*: <why>}: the others run without them
 */
public record Chain(List<Processor> processors, List<String> refused) implements ProcessorChain {
    /** The reason of a drop, for {@code logferry_events_dropped_total}. */
    public static final String DROPPED = "drop_event";

    public Chain {
        processors = List.copyOf(processors);
        refused = List.copyOf(refused);
    }

    Chain(List<Processor> processors) {
        this(processors, List.of());
    }

    @Override
    public String apply(Map<String, Object> event) {
        for (Processor p : processors) {
            switch (p.run(event)) {
                case CONTINUE -> {
                }
                case STOP -> {
                    return null;
                }
                case DROP -> {
                    return DROPPED;
                }
            }
        }
        return null;
    }

    @Override
    public boolean isEmpty() {
        return processors.isEmpty();
    }

    @Override
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < processors.size(); i++) {
            out.add((i + 1) + " " + processors.get(i).describe());
        }
        return out;
    }

    @Override
    public String toString() {
        return String.join("; ", describe());
    }

    static String quote(String s) {
        return Printable.quote(s, 100);
    }
}
