package io.logferry.model;

/**
 * UTF-8 sizes of Java strings without encoding them, counted the way the documents are written:
 * a surrogate pair is four bytes, a lone surrogate the three of its replacement U+FFFD.
 */
public final class Utf8 {
    private Utf8() {
    }

    /** The UTF-8 length of {@code s}. */
    public static int length(CharSequence s) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** The longest prefix of {@code s} of at most {@code maxBytes} UTF-8 bytes, never splitting a character. */
    public static String truncate(String s, int maxBytes) {
        if (s.length() * 3L <= maxBytes) {
            return s;
        }
        int n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1));
            int w = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
            if (n + w > maxBytes) {
                return s.substring(0, i);
            }
            n += w;
            if (pair) {
                i++;
            }
        }
        return s;
    }

    /** The text of UTF-8 {@code bytes}, or null when they are not valid UTF-8 (no replacement characters). */
    public static String decodeStrict(byte[] bytes) {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    /** The UTF-8 bytes of {@code s} (for code that does no I/O and so imports no {@code java.nio}). */
    public static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
