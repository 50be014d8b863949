package io.logferry.process;

import io.logferry.model.FieldTree;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dotted field paths ({@code http.response.code}) over an event tree of nested
 * {@code Map<String, Object>}: each dot descends one map, as in Filebeat's events. Pure helpers;
 * the maps are the caller's.
 */
final class Fields {
    private Fields() {
    }

    /** The path's segments; an {@link IllegalArgumentException} when one is empty ({@code a..b}, {@code .a}, {@code a.}). */
    static String[] path(String path) {
        if (path.isEmpty()) {
            throw new IllegalArgumentException("a field name is empty");
        }
        String[] parts = path.split("\\.", -1);
        for (String p : parts) {
            if (p.isEmpty()) {
                throw new IllegalArgumentException("field name '" + path + "' has an empty part");
            }
        }
        return parts;
    }

    /**
     * A path named by content (a dissect indirect key): its parts as {@link #path}, at most
     * {@link FieldTree.Limits#MAX_DEPTH}, the rest kept flat in the last one (the document builder's
     * tree bounds it again by {@code limits.field_max_depth}); null when a part is empty. Looks at
     * no more of the name than it keeps: a 300 KB dotted name costs a hundred parts, not 150,000.
     */
    static String[] contentPath(String path) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        while (true) {
            int dot = path.indexOf('.', from);
            if (dot < 0 || parts.size() == FieldTree.Limits.MAX_DEPTH - 1) {
                String last = path.substring(from);
                if (last.isEmpty() || last.startsWith(".") || last.endsWith(".") || last.contains("..")) {
                    return null;
                }
                parts.add(last);
                return parts.toArray(String[]::new);
            }
            if (dot == from) {
                return null;
            }
            parts.add(path.substring(from, dot));
            from = dot + 1;
        }
    }

    /** The value at {@code path}, or null (absent, or a non-map on the way). */
    static Object get(Map<String, Object> event, String[] path) {
        Object at = event;
        for (String p : path) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = m.get(p);
        }
        return at;
    }

    static boolean has(Map<String, Object> event, String[] path) {
        Map<String, Object> parent = parent(event, path);
        return parent != null && parent.containsKey(path[path.length - 1]);
    }

    /**
     * Puts {@code value} at {@code path}, making the maps on the way. A value already there is
     * replaced only with {@code overwrite} (a non-map on the way too).
     *
     * @return false when something is there already and {@code overwrite} is off: nothing changed
     */
    @SuppressWarnings("unchecked")
    static boolean put(Map<String, Object> event, String[] path, Object value, boolean overwrite) {
        Map<String, Object> at = event;
        for (int i = 0; i < path.length - 1; i++) {
            Object next = at.get(path[i]);
            if (!(next instanceof Map<?, ?>)) {
                if (next != null && !overwrite) {
                    return false;
                }
                next = new LinkedHashMap<String, Object>();
                at.put(path[i], next);
            }
            at = (Map<String, Object>) next;
        }
        String last = path[path.length - 1];
        if (!overwrite && at.containsKey(last)) {
            return false;
        }
        at.put(last, value);
        return true;
    }

    /** Removes the value at {@code path}; the maps on the way stay, empty or not. @return whether there was one */
    static boolean delete(Map<String, Object> event, String[] path) {
        Map<String, Object> parent = parent(event, path);
        if (parent == null || !parent.containsKey(path[path.length - 1])) {
            return false;
        }
        parent.remove(path[path.length - 1]);
        return true;
    }

    /** The value at {@code path} removed and returned; null when absent. */
    static Object take(Map<String, Object> event, String[] path) {
        Map<String, Object> parent = parent(event, path);
        return parent == null ? null : parent.remove(path[path.length - 1]);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parent(Map<String, Object> event, String[] path) {
        Object at = event;
        for (int i = 0; i < path.length - 1; i++) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = m.get(path[i]);
        }
        return at instanceof Map<?, ?> ? (Map<String, Object>) at : null;
    }

    /**
     * Adds {@code flag} to the event's {@code log.flags} list once (a value there becomes the list's
     * first element; a {@code log} that is not an object is replaced), as Filebeat flags events
     * ({@code dissect_parsing_error}, {@code truncated}).
     */
    @SuppressWarnings("unchecked")
    static void flag(Map<String, Object> event, String flag) {
        Object log = event.get("log");
        if (!(log instanceof Map<?, ?>)) {
            log = new LinkedHashMap<String, Object>();
            event.put("log", log);
        }
        Map<String, Object> l = (Map<String, Object>) log;
        Object flags = l.get("flags");
        List<Object> list = new ArrayList<>();
        if (flags instanceof List<?> existing) {
            list.addAll(existing);
        } else if (flags != null) {
            list.add(flags);
        }
        if (!list.contains(flag)) {
            list.add(flag);
        }
        l.put("flags", list);
    }
}
