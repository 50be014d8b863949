package io.logferry.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.Regexes;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import io.logferry.model.Utf8;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Fuzz test of the json-file decoder ({@link DockerJsonDecoder}, {@link FastDockerLine}) and the
 * {@link MessageAssembler}: valid dockerd lines, mutated (bytes flipped, inserted, deleted, the
 * line cut, slices repeated into huge lines, invalid UTF-8, raw control characters, nested JSON
 * in the text, fields missing, reordered or added), fed line by line to one assembler per group
 * with random settings. For every case: nothing but {@link DockerJsonDecoder.MalformedLineException}
 * escapes; when the fast path accepts a line, Jackson reads the same log, stream and time from it;
 * what the assembler holds stays within 4 × max_bytes and every message within max_bytes (max_lines
 * is not checked here: a mutated entry may carry a newline inside its text, so lines cannot be
 * counted from the message; MessageAssemblerTest covers it); no cursor handed on passes anything still held. Seeded: {@code -Dfuzz.seed=N}
 * repeats a run, {@code -Dfuzz.cases=N} changes its size; the seed is printed, and named in
 * every failure.
 */
class DecoderFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CASES = Integer.getInteger("fuzz.cases", 120_000);
    private static final long SEED = Long.getLong("fuzz.seed", 0x10_6F_E2_2EL);
    private static final int LINES_PER_GROUP = 100;

    private long seed;
    private int caseNo;
    private byte[] input;

    private String where() {
        return "seed " + seed + ", case " + caseNo + ", input " + (input == null ? "-"
                : input.length > 300 ? HexFormat.of().formatHex(input, 0, 300) + "... (" + input.length + " bytes)" : HexFormat.of().formatHex(input));
    }

    /** Receives what the assembler hands on and checks it as it comes. */
    private final class Checked implements MessageAssembler.Sink {
        final ContainerSettings settings;
        Cursor maxCommit;
        long messages;

        Checked(ContainerSettings settings) {
            this.settings = settings;
        }

        @Override
        public void message(Message m) {
            messages++;
            commit(m.commit());
            if (!settings.json()) {
                String text = m.text();
                if (Utf8.length(text) > settings.maxBytes()) {
                    fail("a message of " + Utf8.length(text) + " bytes, over max_bytes " + settings.maxBytes() + " at " + where());
                }
            }
        }

        @Override
        public void skipped(Cursor commit) {
            commit(commit);
        }

        private void commit(Cursor c) {
            if (maxCommit == null || c.compareTo(maxCommit) > 0) {
                maxCommit = c;
            }
        }
    }

    @Test
    void randomAndMutatedLinesNeverEscapeAndStayWithinTheLimits() throws Exception {
        seed = SEED;
        SplittableRandom rnd = new SplittableRandom(seed);
        FastDockerLine fast = new FastDockerLine();
        long decoded = 0;
        long malformed = 0;
        long fastAccepted = 0;
        long messages = 0;
        long maxHeldRatioNum = 0;
        long bytesFed = 0;
        caseNo = 0;
        long t0 = System.nanoTime();
        try {
            while (caseNo < CASES) {
                ContainerSettings settings = settings(rnd);
                Checked sink = new Checked(settings);
                MessageAssembler a = new MessageAssembler(settings, sink, () -> 0L);
                long offset = 0;
                for (int l = 0; l < LINES_PER_GROUP && caseNo < CASES; l++) {
                    byte[] line = mutate(rnd, validLine(rnd), rnd);
                    // the tailer splits at '\n': a mutation that made one makes two lines
                    for (byte[] part : splitLines(line)) {
                        caseNo++;
                        input = part;
                        bytesFed += part.length;
                        long start = offset;
                        long end = offset + part.length + 1;
                        offset = end;
                        int escapedLimit = a.escapedLimit();
                        DockerEntry fastEntry = fast.decode(part, 0, part.length, start, end, escapedLimit);
                        if (fastEntry != null) {
                            fastAccepted++;
                            agreesWithJackson(part, fastEntry);
                        }
                        DockerEntry e;
                        try {
                            e = DockerJsonDecoder.decode(part, 0, part.length, start, end, escapedLimit);
                            decoded++;
                        } catch (DockerJsonDecoder.MalformedLineException ex) {
                            malformed++;
                            a.skip(new Cursor(1, "f", end));
                            continue;
                        }
                        a.accept(e, 1, "f");
                        check(a, sink, settings);
                    }
                }
                a.flushIdle(Long.MAX_VALUE);
                a.flushAll();
                assertThat(a.heldBytes()).as("nothing held after flushAll at %s", where()).isZero();
                assertThat(a.earliestPending()).isNull();
                messages += sink.messages;
            }
        } catch (RuntimeException | Error e) {
            throw new AssertionError("escaped at " + where() + ": " + e, e);
        }
        System.out.printf("DecoderFuzzTest: %d cases (seed %d) in %d ms, %d MB fed: %d decoded (%d by the fast path), %d malformed,"
                + " %d messages%n", caseNo, seed, (System.nanoTime() - t0) / 1_000_000, bytesFed >> 20, decoded, fastAccepted, malformed, messages);
        assertThat(caseNo).isGreaterThanOrEqualTo(Math.min(CASES, 100_000));
        assertThat(malformed).as("the mutations make malformed lines").isPositive();
        assertThat(decoded).as("and leave many lines valid").isGreaterThan(caseNo / 4);
    }

    private void check(MessageAssembler a, Checked sink, ContainerSettings settings) {
        if (a.heldBytes() > 4L * settings.maxBytes()) {
            fail("the assembler holds " + a.heldBytes() + " bytes, over 4 x max_bytes " + settings.maxBytes() + " at " + where());
        }
        Cursor pending = a.earliestPending();
        if (pending != null && sink.maxCommit != null && sink.maxCommit.compareTo(pending) > 0) {
            fail("committed " + sink.maxCommit + " past the held " + pending + " at " + where());
        }
    }

    /** When the fast path accepts a line, Jackson must read the same thing from it. */
    private void agreesWithJackson(byte[] line, DockerEntry fastEntry) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (Exception e) {
            fail("the fast path accepted a line Jackson refuses (" + e.getMessage() + ") at " + where());
            return;
        }
        if (!n.path("log").asText().equals(fastEntry.log()) || !n.path("stream").asText().equals(fastEntry.stream())
                || !n.path("time").asText().equals(fastEntry.time())) {
            fail("the fast path read " + JSON.valueToTree(List.of(fastEntry.log(), fastEntry.stream(), fastEntry.time()))
                    + " where Jackson reads " + n + " at " + where());
        }
    }

    private static ContainerSettings settings(SplittableRandom rnd) {
        int maxBytes = switch (rnd.nextInt(4)) {
            case 0 -> 1 + rnd.nextInt(16);
            case 1 -> 1 + rnd.nextInt(200);
            case 2 -> 1 + rnd.nextInt(5000);
            default -> 1 << 20;
        };
        ContainerSettings.MultilineRule rule = switch (rnd.nextInt(3)) {
            case 0 -> TestSettings.NO_MULTILINE;
            case 1 -> new ContainerSettings.MultilineRule("custom", Regexes.compile("^[ \\t]"), false, true, 1 + rnd.nextInt(20),
                    Duration.ofSeconds(5));
            default -> new ContainerSettings.MultilineRule("custom", Regexes.compile("\\\\$"), false, false, 1 + rnd.nextInt(20),
                    Duration.ofSeconds(5));
        };
        boolean json = rnd.nextInt(4) == 0;
        return TestSettings.of("docker", "default", Streams.values()[rnd.nextInt(3)], StartPosition.BEGINNING,
                rule, json, rnd.nextBoolean() ? "" : "msg", maxBytes, rnd.nextInt(5) == 0 ? List.of(Regexes.compile("a")) : List.of(),
                rnd.nextInt(5) == 0 ? List.of(Regexes.compile("b")) : List.of(), Map.of());
    }

    private static final String[] PIECES = {
        "a", "b", " ", "\t", "x", "0", "\"", "\\", "/", "<", ">", "&", "é", "€", "😀", "\u0000", "\u0001", "\u001b[31m", "\u007f",
        "\u2028", "\uD800", "\uDC00", "\uFFFD", "\r", "{", "}", "[", "]", ":", ",", "\"msg\":", "{\"msg\":\"hi\",\"level\":\"warn\"}",
    };

    /** A json-file line as dockerd writes it (a complete line ends its text with \n; a partial one does not). */
    private static byte[] validLine(SplittableRandom rnd) throws Exception {
        StringBuilder text = new StringBuilder();
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            int depth = 1 + rnd.nextInt(rnd.nextBoolean() ? 20 : 3000);     // nested JSON in the text
            text.append("{\"a\":".repeat(depth)).append("1").append("}".repeat(rnd.nextInt(depth + 1)));
        } else {
            int n = rnd.nextInt(kind == 1 ? 2000 : 40);
            for (int i = 0; i < n; i++) {
                text.append(PIECES[rnd.nextInt(PIECES.length)]);
            }
        }
        if (rnd.nextInt(4) != 0) {
            text.append('\n');                                             // else a partial entry
        }
        String log = JSON.writeValueAsString(text.toString());
        if (rnd.nextBoolean()) {
            log = log.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");   // as Go escapes them
        }
        String stream = rnd.nextInt(3) == 0 ? "stderr" : "stdout";
        String time = String.format("2024-05-01T10:%02d:%02d.%09dZ", rnd.nextInt(60), rnd.nextInt(60), rnd.nextInt(1_000_000_000));
        String line = switch (rnd.nextInt(12)) {
            case 0 -> "{\"stream\":\"" + stream + "\",\"log\":" + log + ",\"time\":\"" + time + "\"}";
            case 1 -> "{\"log\":" + log + ",\"stream\":\"" + stream + "\",\"attrs\":{\"tag\":\"x\",\"n\":1,\"o\":{\"p\":[1]}},\"time\":\"" + time + "\"}";
            case 2 -> "{ \"log\" : " + log + " , \"stream\" : \"" + stream + "\" , \"time\" : \"" + time + "\" }";
            default -> "{\"log\":" + log + ",\"stream\":\"" + stream + "\",\"time\":\"" + time + "\"}";
        };
        return line.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] mutate(SplittableRandom rnd, byte[] b, SplittableRandom r2) {
        int mutations = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(3);
        for (int m = 0; m < mutations && b.length > 0; m++) {
            int at = rnd.nextInt(b.length);
            b = switch (rnd.nextInt(11)) {
                case 0 -> flip(b, at, 1 << rnd.nextInt(8));
                case 1 -> insert(b, at, new byte[] {(byte) rnd.nextInt(256)});
                case 2 -> delete(b, at, 1 + rnd.nextInt(Math.min(8, b.length - at)));
                case 3 -> java.util.Arrays.copyOf(b, at);                                  // cut
                case 4 -> insert(b, at, repeat(java.util.Arrays.copyOfRange(b, at, Math.min(b.length, at + 1 + rnd.nextInt(64))),
                        rnd.nextInt(50) == 0 ? 5000 : 1 + rnd.nextInt(20)));               // a slice repeated: huge lines
                case 5 -> insert(b, at, INVALID_UTF8[rnd.nextInt(INVALID_UTF8.length)]);
                case 6 -> insert(b, at, new byte[] {(byte) rnd.nextInt(0x20)});           // a raw control character
                case 7 -> replace(b, "\"time\"", "\"tim\"");                               // a field missing
                case 8 -> replace(b, "\"log\"", "\"msg\"");
                case 9 -> replace(b, "\"stream\":\"stdout\"", rnd.nextBoolean() ? "\"stream\":1" : "\"stream\":{\"a\":[\"b\"]}");
                default -> insert(b, at, "\\u".getBytes(StandardCharsets.US_ASCII));       // a broken escape
            };
        }
        return b;
    }

    private static final byte[][] INVALID_UTF8 = {
        {(byte) 0xC3}, {(byte) 0xFF}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0x80},
    };

    private static byte[] flip(byte[] b, int at, int bit) {
        byte[] out = b.clone();
        out[at] ^= (byte) bit;
        return out;
    }

    private static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }

    private static byte[] delete(byte[] b, int at, int n) {
        byte[] out = new byte[b.length - n];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + n, out, at, b.length - at - n);
        return out;
    }

    private static byte[] repeat(byte[] b, int times) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length * times);
        for (int i = 0; i < times; i++) {
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    private static byte[] replace(byte[] b, String from, String to) {
        return new String(b, StandardCharsets.ISO_8859_1).replace(from, to).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static List<byte[]> splitLines(byte[] b) {
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= b.length; i++) {
            if (i == b.length || b[i] == '\n') {
                out.add(java.util.Arrays.copyOfRange(b, from, i));
                from = i + 1;
            }
        }
        return out;
    }
}
