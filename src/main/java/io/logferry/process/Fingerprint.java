package io.logferry.process;

import java.math.BigDecimal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code fingerprint} (https://www.elastic.co/guide/en/beats/filebeat/current/fingerprint.html):
 * a hash of {@code fields} written to {@code target_field} ({@code fingerprint}), byte for byte
 * Filebeat's so that the same event has the same fingerprint from either shipper: the fields
 * sorted and deduplicated, each written {@code |<name>|<value>} with the value as Go prints it
 * ({@code %v}: numbers, {@code true}, a time in UTC as {@code 2019-10-29 00:00:00 +0000 UTC}),
 * then a last {@code |}; {@code method} {@code md5}, {@code sha1}, {@code sha256} (default),
 * {@code sha384}, {@code sha512} or {@code xxhash} (XXH64, seed 0); {@code encoding} {@code hex}
 * (default), {@code base32} or {@code base64}. An object or array among the fields, or a missing
 * one without {@code ignore_missing}, is an error. Checked against the vectors of Filebeat's own
 * tests ({@code libbeat/processors/fingerprint/fingerprint_test.go}).
 */
record Fingerprint(List<String> fields, String target, String method, String encoding, boolean ignoreMissing) implements Processor {
    private static final Set<String> METHODS = Set.of("md5", "sha1", "sha256", "sha384", "sha512", "xxhash");
    private static final Set<String> ENCODINGS = Set.of("hex", "base32", "base64");

    Fingerprint {
        fields = List.copyOf(fields);
        fields.forEach(Fields::path);
        Fields.path(target);
    }

    static Processor compile(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("fingerprint", o, Set.of("fields", "target_field", "method", "encoding", "ignore_missing"));
        List<String> fields = new ArrayList<>(new TreeSet<>(Compiler.list(o.get("fields"))));
        if (fields.isEmpty()) {
            throw new Compiler.Invalid("fingerprint needs fields");
        }
        Compiler.count("fingerprint.fields", fields.size(), b);
        String method = o.getOrDefault("method", "sha256").trim().toLowerCase(Locale.ROOT);
        if (!METHODS.contains(method)) {
            throw new Compiler.Invalid("fingerprint.method '" + method + "' is not one of " + new TreeSet<>(METHODS));
        }
        String encoding = o.getOrDefault("encoding", "hex").trim().toLowerCase(Locale.ROOT);
        if (!ENCODINGS.contains(encoding)) {
            throw new Compiler.Invalid("fingerprint.encoding '" + encoding + "' is not one of " + new TreeSet<>(ENCODINGS));
        }
        String target = o.getOrDefault("target_field", "fingerprint").trim();
        return new Fingerprint(fields, target.isEmpty() ? "fingerprint" : target, method, encoding,
                Compiler.bool("fingerprint.ignore_missing", o.get("ignore_missing"), false));
    }

    @Override
    public Outcome run(Map<String, Object> event) {
        StringBuilder source = new StringBuilder();
        for (String f : fields) {
            String[] path = Fields.path(f);
            if (!Fields.has(event, path)) {
                if (ignoreMissing) {
                    continue;
                }
                return Outcome.STOP;
            }
            Object v = Fields.get(event, path);
            if (v instanceof Map<?, ?> || v instanceof List<?>) {
                return Outcome.STOP;
            }
            source.append('|').append(f).append('|').append(go(v));
        }
        source.append('|');
        byte[] hash = hash(io.logferry.model.Utf8.bytes(source.toString()));
        String out = switch (encoding) {
            case "base32" -> base32(hash);
            case "base64" -> Base64.getEncoder().encodeToString(hash);
            default -> HexFormat.of().formatHex(hash);
        };
        Fields.put(event, Fields.path(target), out, true);
        return Outcome.CONTINUE;
    }

    private static final DateTimeFormatter GO_TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT);

    /** A value as Go's {@code %v} prints it (the types an event holds). */
    static String go(Object v) {
        if (v == null) {
            return "<nil>";
        }
        if (v instanceof Instant i) {
            // Go's time.Time in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC", the fraction without trailing zeros
            String s = GO_TIME.format(i.atOffset(ZoneOffset.UTC));
            if (i.getNano() != 0) {
                s += "." + String.format("%09d", i.getNano()).replaceAll("0+$", "");
            }
            return s + " +0000 UTC";
        }
        if (v instanceof Double d) {
            return goFloat(d);
        }
        if (v instanceof BigDecimal d) {
            return goFloat(d.doubleValue());
        }
        return String.valueOf(v);       // text, Long, BigInteger, Boolean: as Go prints them
    }

    /** Go's {@code %v} of a float64 ({@code %g}, shortest): the shortest digits, the {@code %e} form ({@code 1e+06}) below 1e-4 or from 1e6 on. */
    static String goFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "+Inf" : "-Inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0" : "0";
        }
        BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exp = b.precision() - b.scale() - 1;
        if (exp < -4 || exp >= 6) {
            String digits = b.unscaledValue().abs().toString();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String e = String.valueOf(Math.abs(exp));
            return (d < 0 ? "-" : "") + mantissa + "e" + (exp < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
        }
        return b.toPlainString();
    }

    private byte[] hash(byte[] in) {
        if (method.equals("xxhash")) {
            long h = xxh64(in);
            byte[] out = new byte[8];
            for (int i = 7; i >= 0; i--) {
                out[i] = (byte) h;
                h >>>= 8;
            }
            return out;
        }
        try {
            return MessageDigest.getInstance(switch (method) {
                case "md5" -> "MD5";
                case "sha1" -> "SHA-1";
                case "sha384" -> "SHA-384";
                case "sha512" -> "SHA-512";
                default -> "SHA-256";
            }).digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    /** XXH64 with seed 0, from the algorithm's specification (xxHash's doc/xxhash_spec.md). */
    static long xxh64(byte[] b) {
        int n = b.length;
        int i = 0;
        long h;
        if (n >= 32) {
            long v1 = P1 + P2;
            long v2 = P2;
            long v3 = 0;
            long v4 = -P1;
            for (; i + 32 <= n; i += 32) {
                v1 = round(v1, le64(b, i));
                v2 = round(v2, le64(b, i + 8));
                v3 = round(v3, le64(b, i + 16));
                v4 = round(v4, le64(b, i + 24));
            }
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = merge(h, v1);
            h = merge(h, v2);
            h = merge(h, v3);
            h = merge(h, v4);
        } else {
            h = P5;
        }
        h += n;
        for (; i + 8 <= n; i += 8) {
            h ^= round(0, le64(b, i));
            h = Long.rotateLeft(h, 27) * P1 + P4;
        }
        if (i + 4 <= n) {
            h ^= (le32(b, i) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            i += 4;
        }
        for (; i < n; i++) {
            h ^= (b[i] & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static long round(long acc, long lane) {
        return Long.rotateLeft(acc + lane * P2, 31) * P1;
    }

    private static long merge(long acc, long v) {
        return (acc ^ round(0, v)) * P1 + P4;
    }

    private static long le64(byte[] b, int i) {
        long v = 0;
        for (int k = 7; k >= 0; k--) {
            v = v << 8 | (b[i + k] & 0xFFL);
        }
        return v;
    }

    private static int le32(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }

    /** RFC 4648 base32 with padding, as Go's {@code base32.StdEncoding}. */
    static String base32(byte[] in) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder out = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (byte x : in) {
            buffer = buffer << 8 | (x & 0xFF);
            bits += 8;
            while (bits >= 5) {
                out.append(alphabet.charAt(buffer >>> (bits - 5) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(alphabet.charAt(buffer << (5 - bits) & 31));
        }
        while (out.length() % 8 != 0) {
            out.append('=');
        }
        return out.toString();
    }

    @Override
    public String describe() {
        return "fingerprint fields=" + fields + (target.equals("fingerprint") ? "" : " target_field=" + target)
                + " method=" + method + (encoding.equals("hex") ? "" : " encoding=" + encoding) + (ignoreMissing ? " ignore_missing=true" : "");
    }
}
