package io.logferry.elasticsearch;

import io.logferry.decode.JsonMessage;
import io.logferry.model.Ecs;
import io.logferry.model.FieldTree;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a document's content fields (decoded JSON, what the processors left: a
 * {@link FieldTree}'s root) beside the fields the agent writes itself, so that content can never
 * set one of those, whatever form it took (an object, dotted keys, a mix, at any depth: the tree
 * has made them one form already). The agent's places are a small fixed tree of names
 * ({@link Place}), built once per container, and each content field is routed by walking it:
 *
 * <ul>
 *   <li>a name the agent owns whole ({@code container}, {@code host}, {@code agent},
 *       {@code data_stream}, {@code docker}, {@code @timestamp}, {@code message}, {@code stream},
 *       {@code log.offset}, {@code log.file}, {@code log.level}, {@code log.flags},
 *       {@code event.dataset}, {@code event.module} when the container has a module, {@code error.type} and {@code error.message} when the document has an
 *       error (JSON decoding failed), {@code service.name}
 *       when the container has one, {@code labels.<name>} of its {@code logferry.fields.*}, every
 *       {@code ecs.*} but {@code ecs.version}) goes under {@code json}, at the same path;</li>
 *   <li>{@code ecs.version} is dropped: the document's states the version of its fields;</li>
 *   <li>an object the agent writes in part ({@code log}, {@code event}, {@code error},
 *       {@code labels}, {@code service} with a name) is walked: its other fields go in, those of
 *       {@code log} inside the document's {@code log} object, the others with a dotted name
 *       ({@code "event.action"}: Elasticsearch merges it into that object); a value that is not an
 *       object there goes under {@code json};</li>
 *   <li>content's own {@code json} object joins {@code json};</li>
 *   <li>every other field goes in as it is.</li>
 * </ul>
 *
 * <p>The walk goes no deeper than the agent's tree of names (three levels); the values are written
 * by {@link JsonOut#value}, which does not recurse. What goes under {@code json} is put through a
 * {@link FieldTree} one level down, so the limits hold there too. Immutable; thread-safe.
 */
final class ContentFields {
    /** What the agent does with content at one name. */
    private enum Rule { FREE, MOVE, DROP, PARTIAL }

    /** A name of the agent's tree: its rule, and for a {@code PARTIAL} one the rules of its children (the rest: {@code rest}). */
    private record Place(Rule rule, Map<String, Place> children, Rule rest) {
        static final Place FREE = new Place(Rule.FREE, Map.of(), Rule.FREE);
        static final Place MOVE = new Place(Rule.MOVE, Map.of(), Rule.MOVE);
        static final Place DROP = new Place(Rule.DROP, Map.of(), Rule.DROP);

        Place child(String name) {
            Place p = children.get(name);
            return p != null ? p : rest == Rule.FREE ? FREE : rest == Rule.MOVE ? MOVE : DROP;
        }
    }

    private static final String LOG = "log";
    private final Place root;
    /** The same with the document's own {@code error} object (JSON decoding failed). */
    private final Place rootWithError;
    private final FieldTree.Limits limits;

    /**
     * @param serviceName whether the document writes {@code service.name} itself
     * @param fieldNames  the names of its {@code labels.*} ({@code logferry.fields.*})
     */
    ContentFields(boolean serviceName, Set<String> fieldNames, FieldTree.Limits limits) {
        this(serviceName, fieldNames, limits, false);
    }

    /** @param module whether the document writes {@code event.module} itself (a Filebeat module's container) */
    ContentFields(boolean serviceName, Set<String> fieldNames, FieldTree.Limits limits, boolean module) {
        this.limits = limits;
        Map<String, Place> top = new HashMap<>();
        for (String owned : Ecs.AGENT_OWNED) {
            top.put(owned, Place.MOVE);
        }
        top.put("ecs", new Place(Rule.PARTIAL, Map.of("version", Place.DROP), Rule.MOVE));
        top.put(LOG, partial("offset", "file", "level", "flags"));
        top.put("event", module ? partial("dataset", "module") : partial("dataset"));
        if (!fieldNames.isEmpty()) {
            top.put("labels", partial(fieldNames.toArray(String[]::new)));
        }
        if (serviceName) {
            top.put("service", partial("name"));
        }
        this.root = new Place(Rule.PARTIAL, Map.copyOf(top), Rule.FREE);
        top.put("error", partial("type", "message"));
        this.rootWithError = new Place(Rule.PARTIAL, Map.copyOf(top), Rule.FREE);
    }

    private static Place partial(String... owned) {
        Map<String, Place> c = new HashMap<>();
        for (String o : owned) {
            c.put(o, Place.MOVE);
        }
        return new Place(Rule.PARTIAL, Map.copyOf(c), Rule.FREE);
    }

    /** What goes under {@code json}, built while the content is written; written last by {@link #writeJson}. */
    FieldTree clashes() {
        return new FieldTree(limits, 2);
    }

    /**
     * The members of content's {@code log} object the document's {@code log} object may hold,
     * each as {@code ,"name":value}; the rest into {@code clashes}.
     *
     * @param open whether the caller has the document's {@code log} object open (else the first member opens it)
     * @return whether the {@code log} object is open now
     */
    boolean writeLog(JsonOut o, Map<String, Object> content, FieldTree clashes, boolean open) {
        Object log = content.get(LOG);
        if (log == null && !content.containsKey(LOG)) {
            return open;
        }
        Place p = root.child(LOG);
        if (!(log instanceof Map<?, ?> m)) {
            move(clashes, List.of(LOG), log);
            return open;
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String name = String.valueOf(e.getKey());
            Place c = p.child(name);
            if (c.rule == Rule.FREE) {
                o.ascii(open ? "," : ",\"log\":{").key(name).value(e.getValue());
                open = true;
            } else {
                route(o, List.of(LOG, name), c, e.getValue(), clashes);
            }
        }
        return open;
    }

    /**
     * Every content field but {@code log} ({@link #writeLog}), each as {@code ,"name":value} at the document's root.
     *
     * @param error whether the document writes its own {@code error} object
     */
    void write(JsonOut o, Map<String, Object> content, FieldTree clashes, boolean error) {
        Place root = error ? rootWithError : this.root;
        for (Map.Entry<String, Object> e : content.entrySet()) {
            String name = e.getKey();
            if (name.equals(LOG)) {
                continue;
            }
            if (name.equals(JsonMessage.CLASHES) && e.getValue() instanceof Map<?, ?> own) {
                for (Map.Entry<?, ?> j : own.entrySet()) {
                    move(clashes, List.of(String.valueOf(j.getKey())), j.getValue());
                }
                continue;
            }
            Place p = root.child(name);
            if (p.rule == Rule.FREE) {
                o.raw(',').key(name).value(e.getValue());       // most fields: no path to build
            } else {
                route(o, List.of(name), p, e.getValue(), clashes);
            }
        }
    }

    /** {@code ,"json":{...}} when anything clashed. */
    static void writeJson(JsonOut o, FieldTree clashes) {
        if (!clashes.root().isEmpty()) {
            o.raw(',').key(JsonMessage.CLASHES).value(clashes.root());
        }
    }

    /** One content field at {@code path}, by the rule of its place; a partial place's fields one by one (its depth is the agent tree's). */
    private void route(JsonOut o, List<String> path, Place p, Object v, FieldTree clashes) {
        switch (p.rule) {
            case FREE -> o.raw(',').key(String.join(".", path)).value(v);
            case MOVE -> move(clashes, path, v);
            case DROP -> { }
            case PARTIAL -> {
                if (!(v instanceof Map<?, ?> m)) {
                    move(clashes, path, v);
                    return;
                }
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String name = String.valueOf(e.getKey());
                    List<String> child = new ArrayList<>(path.size() + 1);
                    child.addAll(path);
                    child.add(name);
                    route(o, child, p.child(name), e.getValue(), clashes);
                }
            }
        }
    }

    private static void move(FieldTree clashes, List<String> path, Object v) {
        clashes.put(path, v);
    }
}
