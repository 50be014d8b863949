package io.logferry.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Decodes one json-file line. Malformed lines raise {@link MalformedLineException}; the caller
 * skips and counts them, the tailer goes on. Bytes that are not valid UTF-8 inside the JSON
 * become U+FFFD rather than failing the line.
 */
public final class DockerJsonDecoder {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    public static final class MalformedLineException extends Exception {
        public MalformedLineException(String message) {
            super(message);
        }
    }

    private DockerJsonDecoder() { }

    public static DockerEntry decode(byte[] buf, int off, int len, long start, long end) throws MalformedLineException {
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
        try (JsonParser p = JSON.createParser(buf, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedLineException("not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                switch (name) {
                    case "log" -> log = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "stream" -> stream = v == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "time" -> time = v == JsonToken.VALUE_STRING ? p.getText() : null;
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
        return new DockerEntry(log, stream, time, start, end);
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
