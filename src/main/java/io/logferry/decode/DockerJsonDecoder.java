package io.logferry.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes one json-file line. Malformed lines raise {@link MalformedLineException}; the caller
 * skips and counts them, the tailer goes on. Bytes that are not valid UTF-8 inside the JSON
 * become U+FFFD rather than failing the line.
 */
public final class DockerJsonDecoder {
    private static final JsonFactory JSON = JsonFactory.builder().build();
    /** One per tailer thread (tailers are virtual threads, one per container). */
    private static final ThreadLocal<FastDockerLine> FAST = ThreadLocal.withInitial(FastDockerLine::new);

    public static final class MalformedLineException extends Exception {
        public MalformedLineException(String message) {
            super(message);
        }
    }

    private DockerJsonDecoder() { }

    public static DockerEntry decode(byte[] buf, int off, int len, long start, long end) throws MalformedLineException {
        return decode(buf, off, len, start, end, 0);
    }

    /**
     * @param escapedLimit {@link MessageAssembler#escapedLimit()}: when positive, a plain line may
     *                     come back with its escaped text instead of a {@code String} (see {@link DockerEntry#escaped()})
     */
    public static DockerEntry decode(byte[] buf, int off, int len, long start, long end, int escapedLimit)
            throws MalformedLineException {
        return decode(FAST.get(), buf, off, len, start, end, escapedLimit);
    }

    /**
     * {@link #decode(byte[], int, int, long, long, int)} with the caller's own scanner: a reader
     * that decodes many lines on one thread holds one, rather than looking it up per line (the
     * thread-local lookup cost about 9% of the CPU of the plain benchmark's tailer).
     */
    static DockerEntry decode(FastDockerLine scanner, byte[] buf, int off, int len, long start, long end, int escapedLimit)
            throws MalformedLineException {
        DockerEntry fast = scanner.decode(buf, off, len, start, end, escapedLimit);
        if (fast != null) {
            return fast;
        }
        try {
            return parse(buf, off, len, start, end);
        } catch (IOException | RuntimeException e) {
            if (!validUtf8(buf, off, len)) {
                byte[] fixed = new String(buf, off, len, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
                try {
                    return parse(fixed, 0, fixed.length, start, end);
                } catch (IOException | RuntimeException again) {
                    throw new MalformedLineException(summary(again));
                }
            }
            throw new MalformedLineException(summary(e));
        }
    }

    private static String summary(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl > 0 ? m.substring(0, nl) : m;
    }

    private static DockerEntry parse(byte[] buf, int off, int len, long start, long end) throws IOException, MalformedLineException {
        String log = null;
        String stream = null;
        String time = null;
        Map<String, String> attrs = Map.of();
        try (JsonParser p = JSON.createParser(buf, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedLineException("not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                switch (name) {
                    case "log" -> log = text(p, v);
                    case "stream" -> stream = text(p, v);
                    case "time" -> time = text(p, v);
                    case "attrs" -> attrs = v == JsonToken.START_OBJECT ? attrs(p) : skip(p);
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new MalformedLineException("the JSON object is not closed");
            }
            if (p.nextToken() != null) {
                throw new MalformedLineException("text after the JSON object");
            }
        }
        if (log == null || time == null) {
            throw new MalformedLineException("no \"log\" or \"time\" string");
        }
        if (stream == null) {
            stream = "stdout";
        }
        return new DockerEntry(log, stream, time, start, end, attrs);
    }

    /** The string value, or null (skipping the value whole when it is an object or an array). */
    private static String text(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        p.skipChildren();
        return null;
    }

    /** {@code "attrs":{"k":"v",..}}: string values as they are, other values as their JSON text. */
    private static Map<String, String> attrs(JsonParser p) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken v = p.nextToken();
            if (v.isScalarValue()) {
                out.put(k, p.getText());
            } else {
                p.skipChildren();
            }
        }
        return out;
    }

    private static Map<String, String> skip(JsonParser p) throws IOException {
        p.skipChildren();
        return Map.of();
    }

    static boolean validUtf8(byte[] b, int off, int len) {
        int i = off;
        int endI = off + len;
        while (i < endI) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int n = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : -1;
            if (n < 0 || i + n >= endI) {
                return false;
            }
            for (int k = 1; k <= n; k++) {
                if ((b[i + k] & 0xC0) != 0x80) {
                    return false;
                }
            }
            i += n + 1;
        }
        return true;
    }
}
