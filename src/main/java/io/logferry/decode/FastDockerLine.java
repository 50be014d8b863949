package io.logferry.decode;

import java.nio.charset.StandardCharsets;

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
        int limit = off + len;
        if (!at(b, off, limit, LOG)) {
            return null;
        }
        int p = off + LOG.length;
        int logFrom = p;
        boolean plain = true;               // ASCII, no escapes: the bytes are the string
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
                p += 2;
                continue;
            }
            if (c < 0x20 && c >= 0) {
                return null;                // a raw control character is not JSON
            }
            if (c < 0) {
                plain = false;
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
        String log = plain ? new String(b, logFrom, logTo - logFrom, StandardCharsets.ISO_8859_1) : unescape(b, logFrom, logTo);
        if (log == null) {
            return null;
        }
        String time = new String(b, timeFrom, p - timeFrom, StandardCharsets.ISO_8859_1);
        return new DockerEntry(log, stream, time, start, end);
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
