package io.logferry.bench;

import io.logferry.elasticsearch.JsonOut;

import java.nio.charset.StandardCharsets;

/**
 * Sketches of hot-path changes, measured by {@link ProposalsBench} against the agent's code.
 * Not used by the agent; each one states where it would go and what it must still handle.
 */
public final class Prototypes {
    private Prototypes() { }

    private static final byte[] LOG_PREFIX = "{\"log\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STREAM_KEY = ",\"stream\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TIME_KEY = ",\"time\":\"".getBytes(StandardCharsets.US_ASCII);

    /** The three values of a json-file line, as a scanner finds them; null fields mean "use Jackson". */
    public static final class Scanned {
        public String log;
        public String stream;
        public String time;
        /** Bounds of the log value's escaped bytes in the line (without the quotes). */
        public int logFrom;
        public int logTo;
    }

    /**
     * A json-file line in the layout dockerd writes ({@code {"log":"..","stream":"..","time":".."}},
     * fields in that order, no spaces) decoded without a JSON parser: one pass to find the end of
     * the log string, then {@code new String} straight from the bytes when the value has no escape
     * and no non-ASCII byte (compact Latin-1 string, a copy), else an escape decoder. Returns false
     * for anything else ({@code attrs}, another order, bad UTF-8): the caller falls back to Jackson,
     * so nothing changes for unusual lines. Would replace {@code DockerJsonDecoder.parse} for the
     * common case.
     */
    public static boolean scan(byte[] b, int off, int len, Scanned out) {
        int end = off + len;
        if (!startsWith(b, off, end, LOG_PREFIX)) {
            return false;
        }
        int p = off + LOG_PREFIX.length;
        int from = p;
        boolean plain = true;
        while (p < end) {
            byte c = b[p];
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                plain = false;
                p += 2;
                continue;
            }
            if (c < 0x20) {
                return false;              // a raw control character: not JSON
            }
            if (c < 0) {
                plain = false;
            }
            p++;
        }
        if (p >= end) {
            return false;
        }
        out.logFrom = from;
        out.logTo = p;
        out.log = plain ? new String(b, from, p - from, StandardCharsets.ISO_8859_1) : unescape(b, from, p);
        if (out.log == null) {
            return false;
        }
        p++;
        if (!startsWith(b, p, end, STREAM_KEY)) {
            return false;
        }
        p += STREAM_KEY.length;
        if (startsWith(b, p, end, STDOUT)) {
            out.stream = "stdout";
            p += STDOUT.length;
        } else if (startsWith(b, p, end, STDERR)) {
            out.stream = "stderr";
            p += STDERR.length;
        } else {
            return false;
        }
        if (!startsWith(b, p, end, TIME_KEY)) {
            return false;
        }
        p += TIME_KEY.length;
        int t = p;
        while (p < end && b[p] != '"') {
            if (b[p] == '\\' || b[p] < 0x20) {
                return false;
            }
            p++;
        }
        if (p + 2 != end || b[p + 1] != '}') {
            return false;
        }
        out.time = new String(b, t, p - t, StandardCharsets.ISO_8859_1);
        return true;
    }

    private static final byte[] STDOUT = "stdout\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STDERR = "stderr\"".getBytes(StandardCharsets.US_ASCII);

    private static boolean startsWith(byte[] b, int p, int end, byte[] s) {
        if (end - p < s.length) {
            return false;
        }
        for (int i = 0; i < s.length; i++) {
            if (b[p + i] != s[i]) {
                return false;
            }
        }
        return true;
    }

    /** JSON string escapes and UTF-8 → String; null on anything invalid (the caller uses Jackson). */
    private static String unescape(byte[] b, int from, int to) {
        char[] out = new char[to - from];
        int n = 0;
        int p = from;
        while (p < to) {
            int c = b[p] & 0xFF;
            if (c == '\\') {
                if (p + 1 >= to) {
                    return null;
                }
                char e = (char) b[p + 1];
                p += 2;
                switch (e) {
                    case 'n' -> out[n++] = '\n';
                    case 't' -> out[n++] = '\t';
                    case 'r' -> out[n++] = '\r';
                    case '"' -> out[n++] = '"';
                    case '\\' -> out[n++] = '\\';
                    case '/' -> out[n++] = '/';
                    case 'b' -> out[n++] = '\b';
                    case 'f' -> out[n++] = '\f';
                    case 'u' -> {
                        if (p + 4 > to) {
                            return null;
                        }
                        int v = 0;
                        for (int k = 0; k < 4; k++) {
                            int d = Character.digit(b[p + k], 16);
                            if (d < 0) {
                                return null;
                            }
                            v = v << 4 | d;
                        }
                        out[n++] = (char) v;
                        p += 4;
                    }
                    default -> {
                        return null;
                    }
                }
            } else if (c < 0x80) {
                out[n++] = (char) c;
                p++;
            } else {
                // a run of non-ASCII bytes: let the JDK decode and validate it
                int q = p;
                while (q < to && b[q] < 0) {
                    q++;
                }
                String s = new String(b, p, q - p, StandardCharsets.UTF_8);
                if (s.indexOf('\uFFFD') >= 0) {
                    return null;
                }
                s.getChars(0, s.length(), out, n);
                n += s.length();
                p = q;
            }
        }
        return new String(out, 0, n);
    }

    /**
     * {@code JsonOut.string} by way of {@code String.getBytes(UTF_8)} (an intrinsic that copies a
     * Latin-1 string in bulk) and a byte loop that copies runs that need no escape with
     * {@code System.arraycopy}. Caveat for a real change: getBytes turns a lone surrogate into
     * '?', where JsonOut writes U+FFFD; a string with surrogates would keep the current path.
     */
    public static void string(JsonOut o, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        o.raw('"');
        int run = 0;
        for (int i = 0; i < u.length; i++) {
            byte c = u[i];
            if (c >= 0x20 && c != '"' && c != '\\' || c < 0) {
                continue;
            }
            o.raw(u, run, i - run);
            switch (c) {
                case '"' -> o.ascii("\\\"");
                case '\\' -> o.ascii("\\\\");
                case '\n' -> o.ascii("\\n");
                case '\r' -> o.ascii("\\r");
                case '\t' -> o.ascii("\\t");
                default -> o.ascii(String.format("\\u%04x", (int) c));
            }
            run = i + 1;
        }
        o.raw(u, run, u.length - run);
        o.raw('"');
    }

    /**
     * The plain path without decoding and re-encoding the message at all: Docker already wrote the
     * message as a valid JSON string, so its escaped bytes (without the final {@code \n}) go into
     * the document as they are. Valid when nothing looks at the text (no multiline, no
     * include/exclude_lines, no json, not partial, shorter than max_bytes); the rest keeps the
     * decoded path. Writes the same document as DocumentBuilder.build with the per-container
     * constants pre-serialised ({@code head}: the action line's start; {@code tail}: log.file.path,
     * container, host, agent, data_stream, event).
     */
    public static byte[] passthrough(JsonOut o, byte[] line, Scanned s, long offset, byte[] head, byte[] fileAndTail, String id) {
        o.reset();
        o.raw(head).ascii(id).ascii("\"}}\n{\"@timestamp\":\"").ascii(s.time).ascii("\",\"message\":\"");
        int to = s.logTo;
        if (to - s.logFrom >= 2 && line[to - 2] == '\\' && line[to - 1] == 'n') {
            to -= 2;
        }
        o.raw(line, s.logFrom, to - s.logFrom).ascii("\",\"stream\":\"").ascii(s.stream).ascii("\",\"log\":{\"offset\":")
                .number(offset).raw(fileAndTail);
        return o.toBytes();
    }
}
