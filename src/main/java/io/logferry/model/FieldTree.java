package io.logferry.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The one builder of a document's content fields: decoded JSON ({@code decode.JsonMessage} feeds
 * it from the parser), the event the processors change, and what the document builder writes
 * (it copies a processed event through a new tree and moves what clashes with the agent's own
 * fields under {@code json} through another). Every rule about field names lives here:
 *
 * <ul>
 *   <li><b>Dots are nesting.</b> A key's dots descend one object per part, merged with the objects
 *       already there ({@code "log.logger"} and {@code "log":{"origin":..}} make one {@code log});
 *       empty parts are dropped ({@code "a..b"} is {@code a.b}); a key of dots alone is kept as it
 *       is.</li>
 *   <li><b>One clash rule: the later wins.</b> A value put where a value or an object is replaces
 *       it; an object put where an object is merges into it; a dotted key that meets a value on its
 *       way replaces that value with an object. Never a flat dotted key beside an object of the
 *       same name.</li>
 *   <li><b>Depth</b> ({@link Limits#maxDepth}, {@code limits.field_max_depth}): the level of a field
 *       is the nesting of the JSON object or array that holds it (the root's fields are on level
 *       1, as Elasticsearch's {@code index.mapping.depth.limit} counts). No object or array is made
 *       on the deepest level: the rest of a longer key stays flat in one key there
 *       ({@code "a.b.c"} on the last level is a key {@code a.b.c}), the fields of a deeper object
 *       too ({@code {"x":{"y":1}}} there becomes {@code "x.y":1}); an array there, or an object or
 *       array inside an array there, is left out. Counted as {@link Cut#DEPTH}.</li>
 *   <li><b>Key length</b> ({@link Limits#maxKeyBytes}): a key longer (UTF-8) is cut; counted as
 *       {@link Cut#KEY_BYTES}.</li>
 *   <li><b>Count</b> ({@link Limits#maxFields}): fields, objects and array elements of one tree;
 *       beyond, what comes later is left out; counted as {@link Cut#COUNT}.</li>
 * </ul>
 *
 * <p>Nothing here recurses: a tree is built by the caller's loop through {@link Frame}s, and
 * copied ({@link #copy}) with an explicit stack, so no content can deepen the Java stack.
 *
 * <p>Values are {@code Map<String, Object>} (insertion-ordered), {@code List<Object>},
 * {@code String}, {@code Long}, {@code Double}, {@code BigInteger}, {@code BigDecimal},
 * {@code Boolean} and null: the processors' event ({@link ProcessorChain}). A tree is not
 * thread-safe (one line, one thread); the {@link Cut} counters are process-wide.
 */
public final class FieldTree {
    /**
     * @param maxDepth    {@code limits.field_max_depth}: the deepest level of a field (see the class comment)
     * @param maxFields   {@code limits.field_max_count}: fields, objects and array elements of one document's content
     * @param maxKeyBytes {@code limits.field_max_key_bytes}: one key, in UTF-8 bytes
     */
    public record Limits(int maxDepth, int maxFields, int maxKeyBytes) {
        /** The lowest {@code field_max_depth}: the agent's own fields ({@code log.file.path}) need three levels and one more. */
        public static final int MIN_DEPTH = 4;
        /** The highest {@code field_max_depth}, and the ceiling of field paths a processor makes from content (a dissect indirect key). */
        public static final int MAX_DEPTH = 100;
        public static final int MIN_KEY_BYTES = 16;
        /** Elasticsearch's {@code index.mapping.depth.limit} and {@code index.mapping.total_fields.limit}; 1 KiB keys. */
        public static final Limits DEFAULTS = new Limits(20, 1000, 1024);

        public Limits {
            if (maxDepth < MIN_DEPTH || maxDepth > MAX_DEPTH || maxFields < 1 || maxKeyBytes < MIN_KEY_BYTES) {
                throw new IllegalArgumentException("field limits out of range: depth " + maxDepth + ", fields " + maxFields
                        + ", key bytes " + maxKeyBytes);
            }
        }
    }

    /** What a tree left out or cut, the {@code reason} of {@code logferry_fields_cut_total}. */
    public enum Cut {
        DEPTH("depth"), KEY_BYTES("key_bytes"), COUNT("count");

        private final String reason;
        private final LongAdder count = new LongAdder();

        Cut(String reason) {
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }

        /** Since the start of the process, by every tree. */
        public long total() {
            return count.sum();
        }

        /** The counter itself, for the metrics registry. */
        public LongAdder counter() {
            return count;
        }
    }

    /**
     * Where the next values go: an object with the level of its fields, an array with the level
     * of its elements, the flat prefix of an object below the deepest level, or nowhere (left out).
     */
    public static final class Frame {
        final Map<String, Object> map;
        final List<Object> list;
        final int level;
        final String flat;

        private Frame(Map<String, Object> map, List<Object> list, int level, String flat) {
            this.map = map;
            this.list = list;
            this.level = level;
            this.flat = flat;
        }

        boolean skip() {
            return map == null && list == null;
        }
    }

    private static final Frame SKIP = new Frame(null, null, 0, null);

    private final Limits limits;
    private final Map<String, Object> root = new LinkedHashMap<>();
    private final Frame rootFrame;
    private int fields;

    /** A tree whose root holds the document's top-level fields (level 1). */
    public FieldTree(Limits limits) {
        this(limits, 1);
    }

    /**
     * @param rootLevel the level of the root's fields in the document: 2 for a tree that will be
     *                  written under one top-level field ({@code json}, a JSON target)
     */
    public FieldTree(Limits limits, int rootLevel) {
        this.limits = limits;
        this.rootFrame = new Frame(root, null, rootLevel, null);
    }

    public Map<String, Object> root() {
        return root;
    }

    public Frame rootFrame() {
        return rootFrame;
    }

    public Limits limits() {
        return limits;
    }

    /** Puts a value that is not an object or array: under {@code key} in an object, appended in an array ({@code key} ignored). */
    public void value(Frame f, String key, Object v) {
        if (f.skip()) {
            return;
        }
        if (f.list != null) {
            if (admit()) {
                f.list.add(v);
            }
            return;
        }
        if (slot(f, key) && (slotAt.containsKey(slotKey) || admit())) {
            slotAt.put(slotKey, v);
        }
    }

    /** Opens an object under {@code key} (or in an array); the frame its fields go into. An object already there takes them. */
    @SuppressWarnings("unchecked")
    public Frame object(Frame f, String key) {
        if (f.skip()) {
            return SKIP;
        }
        if (f.list != null) {
            if (f.level >= limits.maxDepth) {
                Cut.DEPTH.count.increment();
                return SKIP;
            }
            if (!admit()) {
                return SKIP;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            f.list.add(m);
            return new Frame(m, null, f.level + 1, null);
        }
        if (!slot(f, key)) {
            return SKIP;
        }
        if (slotLevel >= limits.maxDepth) {
            return new Frame(slotAt, null, slotLevel, slotKey);     // its fields stay flat on this level
        }
        if (slotAt.get(slotKey) instanceof Map<?, ?> existing) {
            return new Frame((Map<String, Object>) existing, null, slotLevel + 1, null);
        }
        if (!slotAt.containsKey(slotKey) && !admit()) {
            return SKIP;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        slotAt.put(slotKey, m);
        return new Frame(m, null, slotLevel + 1, null);
    }

    /** Opens an array under {@code key} (or in an array); the frame its elements go into. */
    public Frame array(Frame f, String key) {
        if (f.skip()) {
            return SKIP;
        }
        if (f.list != null) {
            if (f.level >= limits.maxDepth) {
                Cut.DEPTH.count.increment();
                return SKIP;
            }
            if (!admit()) {
                return SKIP;
            }
            List<Object> l = new ArrayList<>();
            f.list.add(l);
            return new Frame(null, l, f.level + 1, null);
        }
        if (!slot(f, key)) {
            return SKIP;
        }
        if (slotLevel >= limits.maxDepth) {
            Cut.DEPTH.count.increment();
            return SKIP;
        }
        if (!slotAt.containsKey(slotKey) && !admit()) {
            return SKIP;
        }
        List<Object> l = new ArrayList<>();
        slotAt.put(slotKey, l);
        return new Frame(null, l, slotLevel + 1, null);
    }

    /** A whole value (a tree of maps and lists, as a processor leaves it) under {@code key}: copied, by the rules. */
    public void put(Frame f, String key, Object v) {
        if (v instanceof Map<?, ?> || v instanceof List<?>) {
            copy(f, key, v);
        } else {
            value(f, key, scalar(v));
        }
    }

    /** Puts {@code v} at the path {@code keys} from the root: each key one object (and its dots, more). */
    public void put(List<String> keys, Object v) {
        Frame f = rootFrame;
        for (int i = 0; i < keys.size() - 1; i++) {
            f = object(f, keys.get(i));
        }
        put(f, keys.get(keys.size() - 1), v);
    }

    /** The root's key of an array {@link #parseJson(String, Limits, boolean)} parsed. */
    public static final String ARRAY = "array";
    private static final JsonFactory FACTORY = new JsonFactory();

    /**
     * A JSON object's tokens straight into a tree by the rules, with a stack of frames (no
     * recursion; the parser's own nesting limit, 1000, holds too): the one way content JSON becomes
     * fields (a {@code logferry.json} message, a {@code decode_json_fields} processor).
     *
     * @throws IOException when the text is not one JSON object (Jackson's {@code JsonProcessingException} for bad JSON)
     */
    public static FieldTree parseJson(String json, Limits limits) throws IOException {
        return parseJson(json, limits, false);
    }

    /**
     * As {@link #parseJson(String, Limits, boolean)} for code that does no I/O (the processors):
     * text that is not JSON is an {@link IllegalArgumentException} with the parser's first line.
     */
    public static FieldTree parseJsonText(String json, Limits limits, boolean arrays) {
        try {
            return parseJson(json, limits, arrays);
        } catch (IOException e) {
            String m = e.getMessage() == null ? "not valid JSON" : e.getMessage();
            int nl = m.indexOf('\n');
            throw new IllegalArgumentException(nl < 0 ? m : m.substring(0, nl), e);
        }
    }

    /** As {@link #parseJson(String, Limits)}; with {@code arrays}, a JSON array too, as the only field of the root, {@link #ARRAY}. */
    public static FieldTree parseJson(String json, Limits limits, boolean arrays) throws IOException {
        FieldTree tree = new FieldTree(limits);
        try (JsonParser p = FACTORY.createParser(json)) {
            JsonToken first = p.nextToken();
            ArrayDeque<Frame> stack = new ArrayDeque<>();
            Frame at = tree.rootFrame();
            if (first == JsonToken.START_ARRAY && arrays) {
                stack.push(at);
                at = tree.array(at, ARRAY);
            } else if (first != JsonToken.START_OBJECT) {
                throw new IOException("not an object");
            }
            String key = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                    case FIELD_NAME -> {
                        key = p.currentName();
                        continue;
                    }
                    case START_OBJECT -> {
                        stack.push(at);
                        at = tree.object(at, key);
                    }
                    case START_ARRAY -> {
                        stack.push(at);
                        at = tree.array(at, key);
                    }
                    case END_OBJECT, END_ARRAY -> {
                        if (stack.isEmpty() || stack.size() == 1 && first == JsonToken.START_ARRAY && arrays) {
                            if (p.nextToken() != null) {
                                throw new IOException("text after the object");
                            }
                            return tree;
                        }
                        at = stack.pop();
                    }
                    case VALUE_STRING -> tree.value(at, key, p.getText());
                    case VALUE_NUMBER_INT -> tree.value(at, key, p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                            ? p.getBigIntegerValue() : (Object) p.getLongValue());
                    case VALUE_NUMBER_FLOAT -> tree.value(at, key, p.getDoubleValue());
                    case VALUE_TRUE -> tree.value(at, key, Boolean.TRUE);
                    case VALUE_FALSE -> tree.value(at, key, Boolean.FALSE);
                    case VALUE_NULL -> tree.value(at, key, null);
                    default -> throw new IOException("unexpected " + t);
                }
                key = null;
            }
            throw new IOException("the object is not closed");
        }
    }

    /** A tree with the fields of {@code fields} by the rules: what the document builder does with a processed event. */
    public static FieldTree of(Map<String, Object> fields, Limits limits) {
        FieldTree t = new FieldTree(limits);
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            t.put(t.rootFrame, e.getKey(), e.getValue());
        }
        return t;
    }

    /** A map or list being copied, and how far. */
    private record Open(Frame frame, Iterator<?> it) { }

    /** The stack of {@link #copy}, made once per tree. */
    private ArrayDeque<Open> copying;

    /** A value's tree copied under {@code key}, with an explicit stack (never the Java stack). */
    private void copy(Frame into, String key, Object value) {
        ArrayDeque<Open> stack = copying == null ? copying = new ArrayDeque<>() : copying;
        stack.clear();
        Frame first = value instanceof Map<?, ?> ? object(into, key) : array(into, key);
        stack.push(new Open(first, value instanceof Map<?, ?> m ? m.entrySet().iterator() : ((List<?>) value).iterator()));
        while (!stack.isEmpty()) {
            Open top = stack.peek();
            if (!top.it.hasNext()) {
                stack.pop();
                continue;
            }
            Object next = top.it.next();
            String k = null;
            Object v = next;
            if (next instanceof Map.Entry<?, ?> e && top.frame.list == null) {
                k = String.valueOf(e.getKey());
                v = e.getValue();
            }
            if (top.frame.skip()) {
                stack.pop();        // nothing of it is kept: no need to walk it
                continue;
            }
            if (v instanceof Map<?, ?> m) {
                stack.push(new Open(object(top.frame, k), m.entrySet().iterator()));
            } else if (v instanceof List<?> l) {
                stack.push(new Open(array(top.frame, k), l.iterator()));
            } else {
                value(top.frame, k, scalar(v));
            }
        }
    }

    /** A leaf as one of the tree's types: other numbers as Long or Double, anything else as its text. */
    private static Object scalar(Object v) {
        if (v == null || v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean
                || v instanceof BigInteger || v instanceof BigDecimal) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float fl) {
            return fl.doubleValue();
        }
        return String.valueOf(v);
    }

    private boolean admit() {
        if (fields >= limits.maxFields) {
            Cut.COUNT.count.increment();
            return false;
        }
        fields++;
        return true;
    }

    /** Where the last {@link #slot} put a field: the object, the key, its level (fields, not a record: one line, one thread, no garbage). */
    private Map<String, Object> slotAt;
    private String slotKey;
    private int slotLevel;

    private boolean slot(Map<String, Object> at, String key, int level) {
        slotAt = at;
        slotKey = key;
        slotLevel = level;
        return true;
    }

    /** The object and key where a field named {@code key} goes from {@code f} ({@link #slotAt}...), the objects on the way made; false when left out. */
    @SuppressWarnings("unchecked")
    private boolean slot(Frame f, String key) {
        if (f.flat != null) {
            return slot(f.map, cut(f.flat + "." + key), f.level);
        }
        Map<String, Object> at = f.map;
        int level = f.level;
        int n = key.length();
        int pos = 0;
        while (pos < n && key.charAt(pos) == '.') {
            pos++;
        }
        if (pos == n) {
            return slot(at, cut(key), level);          // "" or dots alone: as it is
        }
        while (true) {
            int dot = key.indexOf('.', pos);
            int next = dot;
            while (next >= 0 && next < n && key.charAt(next) == '.') {
                next++;
            }
            if (dot < 0 || next == n) {
                return slot(at, cut(dot < 0 ? key.substring(pos) : key.substring(pos, dot)), level);
            }
            if (level >= limits.maxDepth) {
                Cut.DEPTH.count.increment();
                return slot(at, cut(key.substring(pos)), level);   // the rest stays flat on the deepest level
            }
            String part = cut(key.substring(pos, dot));
            Object child = at.get(part);
            if (!(child instanceof Map<?, ?>)) {
                if (child == null && !admit()) {
                    return false;
                }
                child = new LinkedHashMap<String, Object>();
                at.put(part, child);
            }
            at = (Map<String, Object>) child;
            level++;
            pos = next;
        }
    }

    private String cut(String key) {
        if (key.length() * 3 <= limits.maxKeyBytes || Utf8.length(key) <= limits.maxKeyBytes) {
            return key;
        }
        Cut.KEY_BYTES.count.increment();
        return Utf8.truncate(key, limits.maxKeyBytes);
    }

    /** The value at the dotted {@code path} of a tree (each dot one object), or null. */
    public static Object get(Map<String, Object> tree, String path) {
        Object at = tree;
        int from = 0;
        while (true) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            int dot = path.indexOf('.', from);
            if (dot < 0) {
                return m.get(path.substring(from));
            }
            at = m.get(path.substring(from, dot));
            from = dot + 1;
        }
    }

    /** Removes the value at the dotted {@code path}; an object emptied by it is removed too (one level). */
    public static Object remove(Map<String, Object> tree, String path) {
        int dot = path.lastIndexOf('.');
        if (dot < 0) {
            return tree.remove(path);
        }
        Object parent = get(tree, path.substring(0, dot));
        if (!(parent instanceof Map<?, ?> p)) {
            return null;
        }
        Object v = p.remove(path.substring(dot + 1));
        if (p.isEmpty()) {
            remove(tree, path.substring(0, dot));
        }
        return v;
    }
}
