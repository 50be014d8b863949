package io.logferry.model;

import java.util.Locale;

/**
 * A container's priority in the fair share of the queue and of each batch ({@code defaults.priority},
 * {@code logferry.priority}): the weight of its lane, {@code queue.weights.<priority>}. Ordered from
 * the highest: a label may not claim a priority above {@code limits.max_priority}.
 */
public enum Priority {
    HIGH(4), NORMAL(2), LOW(1);

    private final int defaultWeight;

    Priority(int defaultWeight) {
        this.defaultWeight = defaultWeight;
    }

    /** The weight when {@code queue.weights} does not say (tests, benchmarks). */
    public int defaultWeight() {
        return defaultWeight;
    }

    /** The priority named by {@code word} (any case), or null. */
    public static Priority of(String word) {
        return switch (word.trim().toLowerCase(Locale.ROOT)) {
            case "high" -> HIGH;
            case "normal" -> NORMAL;
            case "low" -> LOW;
            default -> null;
        };
    }

    /** The higher of the two is the one with the smaller ordinal: {@code this} capped at {@code ceiling}. */
    public Priority atMost(Priority ceiling) {
        return ordinal() < ceiling.ordinal() ? ceiling : this;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
