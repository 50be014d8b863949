package io.logferry.elasticsearch;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A growable byte buffer that writes JSON by hand (not thread-safe: one writer per thread): the per-line hot path builds each document
 * with it, so that nothing is parsed or reflected on the way out. Strings are escaped as JSON
 * requires; control characters (NUL included) are kept, escaped as six-character unicode escapes; lone
 * surrogates become U+FFFD. Not thread-safe: one writer, one thread.
 */
public final class JsonOut {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private byte[] buf;
    private int len;
    /** The open maps and lists of {@link #value}, kept between calls (a JsonOut is one thread's). */
    private final ArrayDeque<Iterator<?>> stack = new ArrayDeque<>();

    public JsonOut(int capacity) {
        buf = new byte[Math.max(capacity, 64)];
    }

    public int length() {
        return len;
    }

    public void reset() {
        len = 0;
    }

    public byte[] toBytes() {
        return Arrays.copyOf(buf, len);
    }

    public byte[] buffer() {
        return buf;
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    public JsonOut raw(byte[] bytes) {
        return raw(bytes, 0, bytes.length);
    }

    public JsonOut raw(byte[] bytes, int off, int n) {
        ensure(n);
        System.arraycopy(bytes, off, buf, len, n);
        len += n;
        return this;
    }

    public JsonOut raw(char c) {
        ensure(1);
        buf[len++] = (byte) c;
        return this;
    }

    /** ASCII text known to need no escaping (keys, numbers, timestamps). */
    public JsonOut ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    public JsonOut number(long v) {
        return ascii(Long.toString(v));
    }

    /** A JSON string literal with its quotes. */
    public JsonOut string(String s) {
        int n = s.length();
        ensure(n * 3 + 2);
        byte[] b = buf;
        int p = len;
        b[p++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c >= 0x20 && c != '"' && c != '\\') {
                    b[p++] = (byte) c;
                    continue;
                }
                len = p;
                ensure(6 + (n - i) * 3);
                b = buf;
                b[p++] = '\\';
                switch (c) {
                    case '"' -> b[p++] = '"';
                    case '\\' -> b[p++] = '\\';
                    case '\n' -> b[p++] = 'n';
                    case '\r' -> b[p++] = 'r';
                    case '\t' -> b[p++] = 't';
                    default -> {
                        b[p++] = 'u';
                        b[p++] = '0';
                        b[p++] = '0';
                        b[p++] = HEX[c >> 4];
                        b[p++] = HEX[c & 0xF];
                    }
                }
            } else if (c < 0x800) {
                b[p++] = (byte) (0xC0 | (c >> 6));
                b[p++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                len = p;
                ensure(4 + (n - i) * 3);
                b = buf;
                b[p++] = (byte) (0xF0 | (cp >> 18));
                b[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                b[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                b[p++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                if (Character.isSurrogate(c)) {
                    c = '\uFFFD';
                }
                b[p++] = (byte) (0xE0 | (c >> 12));
                b[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[p++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        b[p++] = '"';
        len = p;
        return this;
    }

    private static final byte[] BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            .getBytes(StandardCharsets.US_ASCII);

    /** The bytes in URL-safe base64 without padding (RFC 4648 §5), as ASCII. */
    public JsonOut base64Url(byte[] bytes) {
        int n = bytes.length;
        ensure((n + 2) / 3 * 4);
        byte[] b = buf;
        int p = len;
        int i = 0;
        for (; i + 3 <= n; i += 3) {
            int v = (bytes[i] & 0xFF) << 16 | (bytes[i + 1] & 0xFF) << 8 | (bytes[i + 2] & 0xFF);
            b[p++] = BASE64URL[v >>> 18];
            b[p++] = BASE64URL[(v >>> 12) & 0x3F];
            b[p++] = BASE64URL[(v >>> 6) & 0x3F];
            b[p++] = BASE64URL[v & 0x3F];
        }
        if (n - i == 1) {
            int v = (bytes[i] & 0xFF) << 16;
            b[p++] = BASE64URL[v >>> 18];
            b[p++] = BASE64URL[(v >>> 12) & 0x3F];
        } else if (n - i == 2) {
            int v = (bytes[i] & 0xFF) << 16 | (bytes[i + 1] & 0xFF) << 8;
            b[p++] = BASE64URL[v >>> 18];
            b[p++] = BASE64URL[(v >>> 12) & 0x3F];
            b[p++] = BASE64URL[(v >>> 6) & 0x3F];
        }
        len = p;
        return this;
    }

    /**
     * A content value ({@link io.logferry.model.FieldTree}: decoded JSON, a processed event) as
     * JSON, written here rather than by a Jackson generator per field: maps, lists, text escaped as
     * {@link #string}, whole numbers as digits ({@code BigInteger} and {@code BigDecimal} too),
     * other numbers as Java prints them (a non-finite one as {@code null}), booleans, null; anything
     * else as its text. Nested maps and lists are walked with an explicit stack, never recursion:
     * no depth of content can overflow the thread's stack.
     */
    public JsonOut value(Object v) {
        if (!(v instanceof Map<?, ?>) && !(v instanceof List<?>)) {
            return scalar(v);
        }
        ArrayDeque<Iterator<?>> stack = this.stack;
        stack.clear();
        open(v, stack);
        boolean first = true;
        while (!stack.isEmpty()) {
            Iterator<?> it = stack.peek();
            if (!it.hasNext()) {
                stack.pop();
                raw(it instanceof MapIterator ? '}' : ']');
                first = false;          // the container just closed was an element of its parent
                continue;
            }
            if (!first) {
                raw(',');
            }
            first = false;
            Object x;
            if (it instanceof MapIterator mi) {
                Map.Entry<?, ?> e = mi.next();
                key(String.valueOf(e.getKey()));
                x = e.getValue();
            } else {
                x = it.next();
            }
            if (x instanceof Map<?, ?> || x instanceof List<?>) {
                open(x, stack);
                first = true;
            } else {
                scalar(x);
            }
        }
        return this;
    }

    /** The iterator of a map's entries, told apart from a list's. */
    private record MapIterator(Iterator<? extends Map.Entry<?, ?>> it) implements Iterator<Map.Entry<?, ?>> {
        @Override
        public boolean hasNext() {
            return it.hasNext();
        }

        @Override
        public Map.Entry<?, ?> next() {
            return it.next();
        }
    }

    private void open(Object v, ArrayDeque<Iterator<?>> stack) {
        if (v instanceof Map<?, ?> m) {
            raw('{');
            stack.push(new MapIterator(m.entrySet().iterator()));
        } else {
            raw('[');
            stack.push(((List<?>) v).iterator());
        }
    }

    private JsonOut scalar(Object v) {
        if (v instanceof String s) {
            string(s);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            number(((Number) v).longValue());
        } else if (v instanceof BigInteger || v instanceof BigDecimal) {
            ascii(v.toString());
        } else if (v instanceof Number n) {
            double d = n.doubleValue();
            ascii(Double.isFinite(d) ? Double.toString(d) : "null");
        } else if (v instanceof Boolean b) {
            ascii(b ? "true" : "false");
        } else if (v == null) {
            ascii("null");
        } else {
            string(String.valueOf(v));
        }
        return this;
    }

    /** {@code "key":} */
    public JsonOut key(String k) {
        string(k);
        return raw(':');
    }

    @Override
    public String toString() {
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }
}
