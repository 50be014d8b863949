package io.logferry.model;

import java.util.List;
import java.util.Map;

/**
 * A container's processors (Filebeat's {@code dissect}, {@code add_fields}, ...), compiled once
 * from its labels when it is selected, run by its tailer on every message after multiline and
 * JSON decoding. The implementation is {@code io.logferry.process.Chain}; this interface lets
 * {@link ContainerSettings} carry it without the model knowing the processors.
 *
 * <p>Implementations are immutable and thread-safe: a chain keeps no state between events.
 */
public interface ProcessorChain {
    /**
     * The {@code log.flags} word of an event a {@code dissect} could not split, as Filebeat flags it:
     * written by the processor, read back from the event, written into the document; spelled here only.
     */
    String DISSECT_PARSING_ERROR = "dissect_parsing_error";

    /** No processors: what a container without processor labels gets. */
    ProcessorChain NONE = new ProcessorChain() {
        @Override
        public String apply(Map<String, Object> event) {
            return null;
        }

        @Override
        public boolean isEmpty() {
            return true;
        }

        @Override
        public List<String> describe() {
            return List.of();
        }

        @Override
        public String toString() {
            return "none";
        }
    };

    /**
     * Runs the processors in order on {@code event}, changing it in place: a tree of
     * {@code Map<String, Object>} (keys are field names, without dots), {@code List<Object>},
     * {@code String}, {@code Long}, {@code Double}, {@code Boolean} and null.
     *
     * @return null to keep the event, else the reason it is dropped (a {@code drop_event}): the
     *         {@code reason} label of {@code logferry_events_dropped_total}
     */
    String apply(Map<String, Object> event);

    boolean isEmpty();

    /**
     * The processors the labels named that were refused and left out (the others run), each as
     * {@code <label prefix>.*: <why>}, for the container's warnings and {@code check}; empty when none.
     */
    default List<String> refused() {
        return List.of();
    }

    /** One line per processor, as {@code check} shows them ({@code 1 dissect tokenizer='%{a} %{b}' ...}). */
    List<String> describe();
}
