package io.logferry.decode;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The hot path of json-file decoding: a line in exactly the layout dockerd writes,
 * {@code {"log":"...","stream":"stdout","time":"..."}}, decoded in one pass over the bytes with
 * no parser objects. Anything else (another key order, {@code attrs}, spaces, bytes that are not
 * UTF-8, a malformed escape) returns null and {@link DockerJsonDecoder} decodes it with Jackson,
 * so this only has to be right, never complete. One instance per tailer thread: it reuses a
 * scratch buffer.
 */
final class FastDockerLine {
    private static final byte[] LOG = "{\"log\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STREAM = ",\"stream\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TIME = ",\"time\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STDOUT = "stdout\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STDERR = "stderr\"".getBytes(StandardCharsets.US_ASCII);

    private char[] chars = new char[1024];

    DockerEntry decode(byte[] b, int off, int len, long start, long end) {
        return decode(b, off, len, start, end, 0);
    }

    /**
     * @param escapedLimit when positive, a complete line (it ends with Docker's {@code \n}) of
     *                     ASCII text whose escapes are all valid is returned as its escaped bytes
     *                     ({@link DockerEntry#escaped()}) if they are at most this long, without a
     *                     {@code String}; the document can take them as they are
     */
    DockerEntry decode(byte[] b, int off, int len, long start, long end, int escapedLimit) {
        int limit = off + len;
        if (!at(b, off, limit, LOG)) {
            return null;
        }
        int p = off + LOG.length;
        int logFrom = p;
        boolean plain = true;               // ASCII, no escapes: the bytes are the string
        boolean copyable = escapedLimit > 0; // ASCII, every escape valid and not a surrogate
        int lastEscape = -1;
        int escapeBefore = -1;
        while (true) {
            if (p >= limit) {
                return null;
            }
            byte c = b[p];
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                plain = false;
                if (copyable) {
                    copyable = validEscape(b, p, limit);
                    escapeBefore = lastEscape;
                    lastEscape = p;
                }
                p += 2;
                continue;
            }
            if (c < 0x20 && c >= 0) {
                return null;                // a raw control character is not JSON
            }
            if (c < 0) {
                plain = false;
                copyable = false;
            }
            p++;
        }
        int logTo = p;
        p++;
        if (!at(b, p, limit, STREAM)) {
            return null;
        }
        p += STREAM.length;
        String stream;
        if (at(b, p, limit, STDOUT)) {
            stream = "stdout";
        } else if (at(b, p, limit, STDERR)) {
            stream = "stderr";
        } else {
            return null;
        }
        p += 7;
        if (!at(b, p, limit, TIME)) {
            return null;
        }
        p += TIME.length;
        int timeFrom = p;
        while (p < limit && b[p] != '"') {
            if (b[p] == '\\' || b[p] < 0x20) {
                return null;
            }
            p++;
        }
        if (p + 2 != limit || b[p + 1] != '}') {
            return null;                    // "} must end the line exactly
        }
        String time = new String(b, timeFrom, p - timeFrom, StandardCharsets.ISO_8859_1);
        if (copyable && lastEscape == logTo - 2 && b[logTo - 1] == 'n' && logTo - 2 - logFrom <= escapedLimit
                && !(escapeBefore == logTo - 4 && b[logTo - 3] == 'r')) {
            // the text is the escaped bytes without the final newline (a line ending \r\n takes the other path)
            return DockerEntry.escaped(Arrays.copyOfRange(b, logFrom, logTo - 2), stream, time, start, end);
        }
        String log = plain ? new String(b, logFrom, logTo - logFrom, StandardCharsets.ISO_8859_1) : unescape(b, logFrom, logTo);
        if (log == null) {
            return null;
        }
        return new DockerEntry(log, stream, time, start, end);
    }

    /** The escape at {@code p} is one JSON allows, and a unicode escape is not half of a surrogate pair. */
    private static boolean validEscape(byte[] b, int p, int limit) {
        if (p + 1 >= limit) {
            return false;
        }
        switch (b[p + 1]) {
            case 'n', 't', 'r', '"', '\\', '/', 'b', 'f' -> {
                return true;
            }
            case 'u' -> {
                if (p + 6 > limit) {
                    return false;
                }
                int v = 0;
                for (int i = p + 2; i < p + 6; i++) {
                    int d = Character.digit(b[i], 16);
                    if (d < 0) {
                        return false;
                    }
                    v = v << 4 | d;
                }
                return v < 0xD800 || v > 0xDFFF;
            }
            default -> {
                return false;
            }
        }
    }

    /** The text of escaped bytes that {@link #decode} returned (valid by construction). */
    static String unescape(byte[] escaped) {
        String s = new FastDockerLine().unescape(escaped, 0, escaped.length);
        if (s == null) {
            throw new IllegalArgumentException("not valid JSON string content");
        }
        return s;
    }

    /** JSON string escapes and UTF-8 to UTF-16; null on anything invalid (the slow path decides). */
    private String unescape(byte[] b, int from, int to) {
        if (chars.length < to - from) {
            chars = new char[Math.max(to - from, chars.length * 2)];
        }
        char[] out = chars;
        int n = 0;
        int p = from;
        while (p < to) {
            int c = b[p] & 0xFF;
            if (c == '\\') {
                byte e = b[p + 1];
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
                        if (p + 6 > to) {
                            return null;
                        }
                        int v = 0;
                        for (int i = p + 2; i < p + 6; i++) {
                            int d = Character.digit(b[i], 16);
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
                p += 2;
            } else if (c < 0x80) {
                out[n++] = (char) c;
                p++;
            } else {
                int cp;
                int extra;
                if (c >= 0xC2 && c <= 0xDF) {
                    cp = c & 0x1F;
                    extra = 1;
                } else if (c >= 0xE0 && c <= 0xEF) {
                    cp = c & 0x0F;
                    extra = 2;
                } else if (c >= 0xF0 && c <= 0xF4) {
                    cp = c & 0x07;
                    extra = 3;
                } else {
                    return null;
                }
                if (p + extra >= to) {
                    return null;            // the sequence runs past the end of the string
                }
                for (int i = 1; i <= extra; i++) {
                    int cc = b[p + i] & 0xFF;
                    if ((cc & 0xC0) != 0x80) {
                        return null;
                    }
                    cp = cp << 6 | (cc & 0x3F);
                }
                if (extra == 2 && (cp < 0x800 || cp >= 0xD800 && cp <= 0xDFFF) || extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) {
                    return null;            // overlong or surrogate: not valid UTF-8
                }
                if (cp >= 0x10000) {
                    out[n++] = Character.highSurrogate(cp);
                    out[n++] = Character.lowSurrogate(cp);
                } else {
                    out[n++] = (char) cp;
                }
                p += extra + 1;
            }
        }
        return new String(out, 0, n);
    }

    private static boolean at(byte[] b, int p, int limit, byte[] want) {
        if (p + want.length > limit) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            if (b[p + i] != want[i]) {
                return false;
            }
        }
        return true;
    }
}
