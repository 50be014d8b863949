package io.logferry.selection;

import io.logferry.model.ContainerInfo;
import io.logferry.model.Printable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Expands {@code ${data.container.*}} in the values of a container's Filebeat hints
 * ({@code co.elastic.logs/*}), as Filebeat's Docker autodiscover provider does: the hints builder
 * is given the container as {@code data.container} with {@code id}, {@code name}, {@code image} (the
 * image name, a string) and {@code labels} (elastic/beats,
 * {@code libbeat/autodiscover/providers/docker/docker.go}, {@code generateHints}), so
 * {@code ${data.container.name}} is the container's name and {@code ${data.container.labels.app}}
 * the value of its label {@code app}. The forms of Filebeat's templates are taken too:
 * {@code data.docker.container.*} and {@code data.container.image.name}.
 *
 * <p>Bounded, whatever the labels hold: one pass from left to right, and what a variable expands
 * to is not looked at again (a label whose value is {@code ${data.container.labels.self}} stays
 * that text: no recursion); a value whose expansion would be longer than {@link #MAX_LENGTH}
 * characters is left as written. A variable that is none of these ({@code ${data.host}}, a label
 * the container does not have, an unclosed {@code ${}) is left as written. Each case is one
 * warning. {@code logferry.*} labels are not expanded.
 *
 * <p>Pure and stateless; safe from any thread.
 */
final class HintVariables {
    /** Longest value an expansion may give, in characters. */
    static final int MAX_LENGTH = 4096;

    private HintVariables() { }

    /** The labels with their hints' variables expanded, and a warning for each value not expanded in full. */
    record Expanded(Map<String, String> labels, List<String> warnings) { }

    static Expanded expand(ContainerInfo c, Map<String, String> labels) {
        Map<String, String> out = null;
        List<String> warnings = new ArrayList<>();
        for (Map.Entry<String, String> l : new java.util.TreeMap<>(labels).entrySet()) {
            String v = l.getValue();
            if (!l.getKey().startsWith(Selector.HINT) || v == null || !v.contains("${")) {
                continue;
            }
            String x = value(c, l.getKey(), v, warnings);
            if (!x.equals(v)) {
                if (out == null) {
                    out = new HashMap<>(labels);
                }
                out.put(l.getKey(), x);
            }
        }
        return new Expanded(out == null ? labels : out, warnings);
    }

    private static String value(ContainerInfo c, String key, String v, List<String> warnings) {
        StringBuilder b = new StringBuilder(Math.min(v.length() + 64, MAX_LENGTH + 1));
        List<String> unknown = new ArrayList<>();
        int i = 0;
        while (i < v.length()) {
            int open = v.indexOf("${", i);
            if (open < 0) {
                b.append(v, i, v.length());
                break;
            }
            b.append(v, i, open);
            int close = v.indexOf('}', open + 2);
            if (close < 0) {
                unknown.add(v.substring(open));
                b.append(v, open, v.length());
                break;
            }
            String name = v.substring(open + 2, close);
            String value = lookup(c, name);
            if (value == null) {
                unknown.add("${" + name + "}");
                b.append(v, open, close + 1);
            } else {
                b.append(value);
            }
            i = close + 1;
            if (b.length() > MAX_LENGTH) {
                warnings.add("label " + Printable.escape(key) + "=" + Printable.quote(v) + " expands to more than " + MAX_LENGTH
                        + " characters; left as written");
                return v;
            }
        }
        if (!unknown.isEmpty()) {
            String names = Printable.quote(String.join(", ", unknown), 200);
            warnings.add("label " + Printable.escape(key) + "=" + Printable.quote(v) + " names " + names
                    + ", which logferry does not expand (it expands ${data.container.id}, ${data.container.name}, ${data.container.image}"
                    + " and ${data.container.labels.<key>} of a label the container has); left as written");
        }
        return b.toString();
    }

    /** The value of a variable, or null for one that is not the container's. */
    static String lookup(ContainerInfo c, String name) {
        String n = name.trim();
        if (n.startsWith("data.docker.container.")) {
            n = "data.container." + n.substring("data.docker.container.".length());
        }
        return switch (n) {
            case "data.container.id" -> c.id();
            case "data.container.name" -> c.name();
            case "data.container.image", "data.container.image.name" -> c.imageName();
            default -> n.startsWith("data.container.labels.") ? c.labels().get(n.substring("data.container.labels.".length())) : null;
        };
    }
}
