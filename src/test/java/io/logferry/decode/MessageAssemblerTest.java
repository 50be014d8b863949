package io.logferry.decode;

import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.Regexes;
import io.logferry.model.Streams;
import io.logferry.selection.Selector;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.logferry.decode.Feed.entry;
import static org.assertj.core.api.Assertions.assertThat;

class MessageAssemblerTest {
    private static final String T1 = "2024-05-01T10:00:00.000000001Z";
    private static final String T2 = "2024-05-01T10:00:00.000000002Z";
    /** The rule the selector builds for a {@code logferry.multiline=<type>} label. */
    private static ContainerSettings.MultilineRule labelled(String type) {
        try {
            Config config = new ConfigLoader(Map.of()).load(null);
            return new Selector(config, "")
                    .decide(new ContainerInfo("c1", "app", "img", Map.of("logferry.multiline", type), "", "json-file", true))
                    .settings().orElseThrow().multiline();
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Feed plain() {
        return new Feed(Feed.settings(Streams.ALL));
    }

    private static Feed multiline(ContainerSettings.MultilineRule rule) {
        return new Feed(Feed.settings(Streams.ALL, rule, 1 << 20, List.of(), List.of(), false, ""));
    }

    private static Feed java() {
        return multiline(labelled("java"));
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    // ---- partial lines ----

    @Test
    void dockerSplitsLongLinesIntoPartialEntriesThatAreJoined() throws Exception {
        String longLine = "x".repeat(16 * 1024) + "y".repeat(16 * 1024) + "tail";
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < longLine.length(); i += 16 * 1024) {
            String chunk = longLine.substring(i, Math.min(longLine.length(), i + 16 * 1024));
            boolean last = i + 16 * 1024 >= longLine.length();
            file.append(entry(last ? chunk + "\n" : chunk, "stdout", i == 0 ? T1 : T2));
        }
        file.append(entry("next\n", "stdout", T2));
        Feed f = plain().text(file.toString());
        assertThat(f.texts()).containsExactly(longLine, "next");
        Message m = f.messages.get(0);
        assertThat(m.flags()).isEqualTo(Message.PARTIAL);
        assertThat(m.time()).isEqualTo(T1);
        assertThat(m.start().offset()).isZero();
        assertThat(f.messages.get(1).flags()).isZero();
        assertThat(f.ackAll()).isEqualTo(utf8(file.toString()));
    }

    @Test
    void aPartialLineIsHeldUntilItsEndArrivesAndNothingAfterItsStartIsCommitted() throws Exception {
        Feed f = plain();
        String first = entry("done\n", "stdout", T1);
        f.text(first).text(entry("half ", "stdout", T1)).text(entry("other stream\n", "stderr", T1));
        assertThat(f.texts()).containsExactly("done", "other stream");
        assertThat(f.ackAll()).isEqualTo(utf8(first));
        assertThat(f.messages.get(1).commit().offset()).isEqualTo(utf8(first));
        f.text(entry("and whole\n", "stdout", T2));
        assertThat(f.texts()).containsExactly("done", "other stream", "half and whole");
        assertThat(f.ackAll()).isEqualTo(f.messages.get(2).commit().offset()).isGreaterThan(utf8(first));
    }

    @Test
    void crlfSplitAcrossPartialEntriesIsTrimmed() throws Exception {
        Feed f = plain().text(entry("windows\r", "stdout", T1) + entry("\n", "stdout", T1));
        assertThat(f.texts()).containsExactly("windows");
    }

    @Test
    void longLinesAreTruncatedAtMaxBytes() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.none(), 100, List.of(), List.of(), false, ""));
        String file = entry("a".repeat(60), "stdout", T1) + entry("b".repeat(60), "stdout", T1) + entry("c".repeat(60) + "\n", "stdout", T1)
                + entry("d".repeat(150) + "\n", "stdout", T1)
                + entry("exactly".repeat(10) + "ab".repeat(15) + "\n", "stdout", T1)
                + entry("é".repeat(51) + "\n", "stdout", T1)
                + entry("😀".repeat(30) + "\n", "stdout", T1);
        f.text(file);
        assertThat(f.texts()).containsExactly("a".repeat(60) + "b".repeat(40), "d".repeat(100),
                "exactly".repeat(10) + "ab".repeat(15), "é".repeat(50), "😀".repeat(25));
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.PARTIAL | Message.TRUNCATED);
        assertThat(f.messages.get(1).flags()).isEqualTo(Message.TRUNCATED);
        assertThat(f.messages.get(2).flags()).as("exactly max_bytes is not truncated").isZero();
        assertThat(f.messages).allSatisfy(m -> assertThat(utf8(m.text())).isLessThanOrEqualTo(100));
        assertThat(f.ackAll()).isEqualTo(utf8(file));
    }

    @Test
    void aPartialLineOfExactlyMaxBytesIsNotTruncated() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.none(), 10, List.of(), List.of(), false, ""));
        f.text(entry("01234", "stdout", T1) + entry("56789\n", "stdout", T1));
        assertThat(f.texts()).containsExactly("0123456789");
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.PARTIAL);
    }

    @Test
    void fiftyMebibytesOfPartialEntriesKeepAtMostMaxBytes() throws Exception {
        int maxBytes = 1 << 20;
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.none(), maxBytes, List.of(), List.of(), false, ""));
        String chunk = "z".repeat(16 * 1024);
        long offset = 0;
        int entries = 50 * 64;       // 50 MiB
        for (int i = 0; i < entries; i++) {
            f.assembler.accept(new DockerEntry(chunk, "stdout", T1, offset, offset + 16 * 1024 + 60), 1, Feed.FILE);
            offset += 16 * 1024 + 60;
        }
        f.assembler.accept(new DockerEntry("end\n", "stdout", T1, offset, offset + 50), 1, Feed.FILE);
        assertThat(f.messages).hasSize(1);
        Message m = f.messages.get(0);
        assertThat(m.text().length()).isEqualTo(maxBytes);
        assertThat(m.flags()).isEqualTo(Message.PARTIAL | Message.TRUNCATED);
        assertThat(m.commit().offset()).isEqualTo(offset + 50);
    }

    @Test
    void aPartialLineNeverCompletedIsSentByFlushAll() throws Exception {
        Feed f = plain();
        String file = entry("cut ", "stdout", T1) + entry("short", "stdout", T1);
        f.text(file);
        assertThat(f.messages).isEmpty();
        assertThat(f.ackAll()).isZero();
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactly("cut short");
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.PARTIAL);
        assertThat(f.ackAll()).isEqualTo(utf8(file));
    }

    // ---- multiline ----

    private static List<String> javaTrace() {
        List<String> lines = new ArrayList<>();
        lines.add("java.lang.IllegalStateException: outer failure");
        for (int i = 0; i < 30; i++) {
            lines.add("\tat com.example.Service.method" + i + "(Service.java:" + (100 + i) + ")");
        }
        lines.add("Caused by: java.io.IOException: connection reset");
        for (int i = 0; i < 30; i++) {
            lines.add("\tat com.example.io.Channel.read" + i + "(Channel.java:" + (10 + i) + ")");
        }
        lines.add("\t... 5 more");
        return lines;
    }

    @Test
    void aJavaStackTraceIsOneMessage() throws Exception {
        List<String> trace = javaTrace();
        assertThat(trace.stream().filter(l -> l.startsWith("\tat")).count()).isEqualTo(60);
        Feed f = java();
        f.line("stdout", "12:00:00 INFO started");
        f.lines("stdout", trace.toArray(String[]::new));
        f.line("stdout", "12:00:01 INFO next");
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactly("12:00:00 INFO started", String.join("\n", trace), "12:00:01 INFO next");
        assertThat(f.messages.get(0).flags()).isZero();
        assertThat(f.messages.get(1).flags()).isEqualTo(Message.MULTILINE);
        assertThat(f.messages.get(2).flags()).isZero();
    }

    @Test
    void aPythonTracebackIsOneMessage() throws Exception {
        List<String> tb = List.of(
                "ERROR:root:request failed",
                "Traceback (most recent call last):",
                "  File \"/app/main.py\", line 10, in handle",
                "    value = compute()",
                "KeyError: 'id'",
                "",
                "During handling of the above exception, another exception occurred:",
                "",
                "Traceback (most recent call last):",
                "  File \"/app/main.py\", line 12, in handle",
                "    raise RuntimeError('bad request')",
                "RuntimeError: bad request");
        Feed f = multiline(labelled("python"));
        f.lines("stderr", tb.toArray(String[]::new));
        f.line("stderr", "INFO:root:recovered");
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactly(String.join("\n", tb), "INFO:root:recovered");
        assertThat(f.messages.get(0).stream()).isEqualTo("stderr");
    }

    @Test
    void customNegateAfter() throws Exception {
        // lines that do not start with '[' belong to the line before
        Feed f = multiline(Feed.rule("custom", Regexes.compile("^\\["), true, true, 500));
        f.lines("stdout", "[1] first", "  detail a", "detail b", "[2] second", "[3] third", "more");
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactly("[1] first\n  detail a\ndetail b", "[2] second", "[3] third\nmore");
        assertThat(f.messages.get(1).flags()).isZero();
        assertThat(f.messages.get(2).flags()).isEqualTo(Message.MULTILINE);
    }

    @Test
    void customMatchBefore() throws Exception {
        // lines ending with a backslash belong to the line after them
        Feed f = multiline(Feed.rule("custom", Regexes.compile("\\\\$"), false, false, 500));
        f.lines("stdout", "one \\", "two \\", "three", "alone", "x \\", "y");
        assertThat(f.texts()).as("sent as soon as the closing line arrives").containsExactly("one \\\ntwo \\\nthree", "alone", "x \\\ny");
    }

    @Test
    void customNegateBefore() throws Exception {
        // lines that do not end with ';' belong to the line after them (SQL statements)
        Feed f = multiline(Feed.rule("custom", Regexes.compile(";$"), true, false, 500));
        f.lines("stdout", "SELECT *", "FROM t", "WHERE x = 1;", "COMMIT;");
        assertThat(f.texts()).containsExactly("SELECT *\nFROM t\nWHERE x = 1;", "COMMIT;");
    }

    @Test
    void maxLinesKeepsTheFirstLinesAndConsumesTheRest() throws Exception {
        Feed f = multiline(Feed.rule("custom", Regexes.compile("^\\s"), false, true, 5));
        List<String> lines = new ArrayList<>();
        lines.add("head");
        for (int i = 1; i <= 10; i++) {
            lines.add(" line " + i);
        }
        f.lines("stdout", lines.toArray(String[]::new));
        f.line("stdout", "after");
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactly(String.join("\n", lines.subList(0, 5)), "after");
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.MULTILINE | Message.TRUNCATED);
        assertThat(f.messages.get(0).commit()).isEqualTo(f.messages.get(1).start());
    }

    @Test
    void aMultilineEventIsBoundedByMaxBytes() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.rule("custom", Regexes.compile("^\\s"), false, true, 1000),
                50, List.of(), List.of(), false, ""));
        f.lines("stdout", "head", " 0123456789", " 0123456789", " 0123456789", " 0123456789", " 0123456789", "next");
        f.assembler.flushAll();
        assertThat(utf8(f.texts().get(0))).isEqualTo(50);
        assertThat(f.texts().get(0)).startsWith("head\n 0123456789\n");
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.MULTILINE | Message.TRUNCATED);
        assertThat(f.texts().get(1)).isEqualTo("next");
    }

    @Test
    void aQuietMultilineEventIsSentAfterItsTimeout() throws Exception {
        Feed f = java();
        f.lines("stdout", "java.lang.Error: x", "\tat a.b(C.java:1)");
        f.assembler.flushIdle();
        assertThat(f.messages).isEmpty();
        f.nanos += 5_000_000_000L - 1;
        f.assembler.flushIdle();
        assertThat(f.messages).isEmpty();
        assertThat(f.ackAll()).isZero();
        f.nanos += 1;
        f.assembler.flushIdle();
        assertThat(f.texts()).containsExactly("java.lang.Error: x\n\tat a.b(C.java:1)");
        assertThat(f.ackAll()).isEqualTo(f.messages.get(0).commit().offset()).isPositive();
    }

    @Test
    void theTimeoutCountsFromTheLastLine() throws Exception {
        Feed f = java();
        f.line("stdout", "java.lang.Error: x");
        f.nanos += 4_000_000_000L;
        f.line("stdout", "\tat a.b(C.java:1)");
        f.nanos += 4_000_000_000L;
        f.assembler.flushIdle();
        assertThat(f.messages).isEmpty();
        f.nanos += 1_000_000_000L;
        f.assembler.flushIdle();
        assertThat(f.messages).hasSize(1);
    }

    @Test
    void flushAllSendsPendingLinesAndPartials() throws Exception {
        Feed f = java();
        f.lines("stdout", "java.lang.Error: x", "\tat a.b(C.java:1)");
        f.text(entry("\tat c.d(E.java:2)", "stdout", T2));     // partial, continues the trace
        f.line("stderr", "err alone");
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactlyInAnyOrder("java.lang.Error: x\n\tat a.b(C.java:1)\n\tat c.d(E.java:2)", "err alone");
        Message trace = f.messages.stream().filter(m -> m.stream().equals("stdout")).findFirst().orElseThrow();
        assertThat(trace.flags()).isEqualTo(Message.MULTILINE | Message.PARTIAL);
    }

    @Test
    void stdoutAndStderrAreNeverJoined() throws Exception {
        Feed f = java();
        f.line("stdout", "java.lang.Error: out");
        f.line("stderr", "java.lang.Error: err");
        f.line("stdout", "\tat out.A(A.java:1)");
        f.line("stderr", "\tat err.B(B.java:1)");
        f.line("stderr", "\tat err.C(C.java:2)");
        f.line("stdout", "\t... 3 more");
        f.line("stdout", "plain out");
        f.line("stderr", "plain err");
        f.assembler.flushAll();
        assertThat(f.messages).extracting(Message::stream, Message::text).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("stdout", "java.lang.Error: out\n\tat out.A(A.java:1)\n\t... 3 more"),
                org.assertj.core.groups.Tuple.tuple("stderr", "java.lang.Error: err\n\tat err.B(B.java:1)\n\tat err.C(C.java:2)"),
                org.assertj.core.groups.Tuple.tuple("stdout", "plain out"),
                org.assertj.core.groups.Tuple.tuple("stderr", "plain err"));
    }

    @Test
    void partialsOfTheTwoStreamsAreNeverJoined() throws Exception {
        Feed f = plain();
        f.text(entry("out1 ", "stdout", T1) + entry("err1 ", "stderr", T1) + entry("err2\n", "stderr", T2) + entry("out2\n", "stdout", T2));
        assertThat(f.texts()).containsExactly("err1 err2", "out1 out2");
        assertThat(f.messages.get(0).commit().offset()).as("stdout still holds a partial from offset 0").isZero();
    }

    @Test
    void theCommitNeverPassesAPendingMultilineEventOnTheOtherStream() throws Exception {
        Feed f = java();
        String first = entry("boot\n", "stdout", T1);
        f.text(first);
        f.line("stdout", "java.lang.Error: pending");     // starts at first.length
        for (int i = 0; i < 20; i++) {
            f.line("stderr", "err line " + i);
        }
        f.text(entry("ignored by the filter\n", "stderr", T1));
        assertThat(f.messages).extracting(Message::text).contains("boot", "err line 18");
        long pendingStart = utf8(first);
        assertThat(f.messages).allSatisfy(m -> assertThat(m.commit().offset()).isLessThanOrEqualTo(pendingStart));
        assertThat(f.skips).allSatisfy(c -> assertThat(c.offset()).isLessThanOrEqualTo(pendingStart));
        assertThat(f.ackAll()).isEqualTo(pendingStart);
        assertThat(f.assembler.earliestPending().offset()).isEqualTo(pendingStart);
        f.line("stdout", "next");
        f.assembler.flushAll();
        assertThat(f.assembler.earliestPending()).isNull();
        assertThat(f.ackAll()).isGreaterThan(pendingStart);
    }

    @Test
    void commitsNeverGoBackwards() throws Exception {
        Feed f = java();
        f.line("stdout", "a");
        f.line("stderr", "java.lang.Error: b");
        f.line("stdout", "c");
        f.text(entry("half", "stdout", T1));
        f.line("stderr", "\tat x.Y(Y.java:1)");
        f.line("stderr", "d");
        f.text("garbage\n");
        f.line("stdout", "e");
        f.assembler.flushAll();
        List<Long> commits = new ArrayList<>();
        f.messages.forEach(m -> commits.add(m.commit().offset()));
        assertThat(commits).isSorted();
    }

    // ---- filters ----

    @Test
    void streamsFilter() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.STDOUT));
        String file = entry("out\n", "stdout", T1) + entry("err\n", "stderr", T1) + entry("err part", "stderr", T1);
        f.text(file);
        assertThat(f.texts()).containsExactly("out");
        assertThat(f.ackAll()).as("filtered entries still advance the offset").isEqualTo(utf8(file));
    }

    @Test
    void includeAndExcludeLines() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.none(), 1 << 20,
                List.of(Regexes.compile("^ERROR"), Regexes.compile("^WARN")), List.of(Regexes.compile("healthcheck")), false, ""));
        f.lines("stdout", "INFO hello", "ERROR bad", "WARN hmm", "ERROR healthcheck failed", "debug ERROR");
        assertThat(f.texts()).containsExactly("ERROR bad", "WARN hmm");
        assertThat(f.ackAll()).isEqualTo(f.skips.get(f.skips.size() - 1).offset());

        Feed ex = new Feed(Feed.settings(Streams.ALL, Feed.none(), 1 << 20, List.of(), List.of(Regexes.compile("^DEBUG")), false, ""));
        ex.lines("stdout", "DEBUG x", "INFO y");
        assertThat(ex.texts()).containsExactly("INFO y");
    }

    @Test
    void linesFilterAppliesToTheWholeMultilineEvent() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.ALL, labelled("java"), 1 << 20,
                List.of(Regexes.compile("Exception")), List.of(), false, ""));
        f.lines("stdout", "java.lang.IllegalStateException: x", "\tat a.B(B.java:1)", "INFO fine");
        f.assembler.flushAll();
        assertThat(f.texts()).containsExactly("java.lang.IllegalStateException: x\n\tat a.B(B.java:1)");
    }

    // ---- JSON ----

    private static Feed json(String key) {
        return new Feed(Feed.settings(Streams.ALL, Feed.none(), 1 << 20, List.of(), List.of(), true, key));
    }

    @Test
    void jsonMessagesBecomeFields() throws Exception {
        Feed f = json("");
        f.line("stdout", "{\"level\":\"warn\",\"message\":\"disk low\",\"disk\":{\"free\":12},\"tags\":[\"a\"]}");
        f.line("stdout", "{\"severity\":\"ERROR\",\"msg\":\"boom\"}");
        f.line("stdout", "{\"log.level\":\"info\",\"message\":\"ecs\"}");
        Message m = f.messages.get(0);
        assertThat(m.text()).isEqualTo("disk low");
        assertThat(m.level()).isEqualTo("warn");
        assertThat(m.errorMessage()).isNull();
        // tags is an ECS name: not at the root for JSON that is not ECS
        assertThat(m.json().toString()).isEqualTo("{disk={free=12}, json={tags=[a]}}");
        assertThat(f.messages.get(1).text()).isEqualTo("boom");
        assertThat(f.messages.get(1).level()).isEqualTo("ERROR");
        assertThat(f.messages.get(2).level()).isEqualTo("info");
        assertThat(f.messages.get(2).text()).isEqualTo("ecs");
    }

    @Test
    void jsonMessageKey() throws Exception {
        Feed f = json("text");
        f.line("stdout", "{\"text\":\"hello\",\"message\":\"kept as a field\"}");
        assertThat(f.messages.get(0).text()).isEqualTo("hello");
        assertThat(io.logferry.model.FieldTree.get(f.messages.get(0).json(), "json.message")).isEqualTo("kept as a field");
    }

    @Test
    void notJsonKeepsTheTextWithAnError() throws Exception {
        Feed f = json("");
        f.lines("stdout", "plain text", "{\"broken\": ", "[1,2]", "{\"a\":1} trailing");
        assertThat(f.texts()).containsExactly("plain text", "{\"broken\": ", "[1,2]", "{\"a\":1} trailing");
        assertThat(f.messages).allSatisfy(m -> {
            assertThat(m.errorMessage()).isNotBlank();
            assertThat(m.json()).isNull();
        });
    }

    // ---- bytes ----

    @Test
    void invalidUtf8InsideTheLogStringBecomesReplacementCharacters() throws Exception {
        byte[] line = concat("{\"log\":\"caf".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xC3, '('},
                new byte[] {(byte) 0xFF}, " ok \u00e9\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n".getBytes(StandardCharsets.UTF_8));
        Feed f = plain().bytes(line);
        assertThat(f.malformed).isZero();
        assertThat(f.texts()).containsExactly("caf\uFFFD(\uFFFD ok \u00e9");
        assertThat(f.ackAll()).isEqualTo(line.length);
    }

    @Test
    void nulAndControlCharactersSurvive() throws Exception {
        String text = "nul\u0000 bell\u0007 esc\u001b[31mred\u001b[0m tab\t del\u007f";
        Feed f = plain().line("stdout", text);
        assertThat(f.texts()).containsExactly(text);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void cursorsCarryFileAndOffsets() throws Exception {
        Feed f = plain();
        String a = entry("a\n", "stdout", T1);
        f.text(a).line("stdout", "b");
        assertThat(f.messages.get(1).start()).isEqualTo(new Cursor(1, Feed.FILE, utf8(a)));
        assertThat(f.messages.get(0).commit()).isEqualTo(new Cursor(1, Feed.FILE, utf8(a)));
    }

    // ---- memory bounds: 200 MB without a newline, fed in chunks ----

    private static final long TWO_HUNDRED_MB = 200L * 1024 * 1024;

    /** Feeds 200 MB of Docker partial entries (16 KiB each, no newline) on one stream; returns the most held at any point. */
    private static long[] feedPartials(Feed f, String stream, String chunk) throws Exception {
        long offset = 0;
        long maxHeld = 0;
        long maxCapacity = 0;
        long entries = TWO_HUNDRED_MB / chunk.length();
        for (long i = 0; i < entries; i++) {
            f.assembler.accept(new DockerEntry(chunk, stream, T1, offset, offset + chunk.length() + 60), 1, Feed.FILE);
            offset += chunk.length() + 60;
            maxHeld = Math.max(maxHeld, f.assembler.heldBytes());
            maxCapacity = Math.max(maxCapacity, f.assembler.heldCapacity());
        }
        f.assembler.accept(new DockerEntry("end\n", stream, T1, offset, offset + 50), 1, Feed.FILE);
        return new long[] {maxHeld, maxCapacity, offset + 50};
    }

    @Test
    void twoHundredMegabytesWithoutANewlineHoldAtMostMaxBytes() throws Exception {
        int maxBytes = 1 << 20;
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.none(), maxBytes, List.of(), List.of(), false, ""));
        long[] r = feedPartials(f, "stdout", "z".repeat(16 * 1024));
        assertThat(r[0]).as("bytes held").isLessThanOrEqualTo(maxBytes);
        assertThat(r[1]).as("chars retained by the builder").isLessThanOrEqualTo(2L * maxBytes + 2);
        assertThat(f.assembler.heldBytes()).isZero();
        assertThat(f.messages).hasSize(1);
        assertThat(f.messages.get(0).text()).hasSize(maxBytes);
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.PARTIAL | Message.TRUNCATED);
        assertThat(f.ackAll()).isEqualTo(r[2]);
    }

    @Test
    void twoHundredMegabytesOfMultibyteTextWithoutANewlineOnAMultilineStreamHoldAtMostMaxBytes() throws Exception {
        int maxBytes = 100_000;
        Feed f = new Feed(Feed.settings(Streams.ALL, labelled("java"), maxBytes, List.of(), List.of(), false, ""));
        long[] r = feedPartials(f, "stderr", "€".repeat(16 * 1024 / 3));
        assertThat(r[0]).isLessThanOrEqualTo(maxBytes);
        // the line, cut at max_bytes, now waits as a multiline event that may continue
        assertThat(f.assembler.heldBytes()).isLessThanOrEqualTo(maxBytes);
        f.assembler.flushAll();
        assertThat(f.messages).hasSize(1);
        assertThat(utf8(f.messages.get(0).text())).isLessThanOrEqualTo(maxBytes).isGreaterThan(maxBytes - 3);
        assertThat(f.messages.get(0).flags() & Message.TRUNCATED).isNotZero();
    }

    @Test
    void twoHundredMegabytesOfContinuationLinesHoldAtMostMaxBytesAndMaxLines() throws Exception {
        int maxBytes = 1 << 20;
        int maxLines = 1_000_000;               // max_bytes binds first
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.rule("custom", Regexes.compile("^\\s"), false, true, maxLines),
                maxBytes, List.of(), List.of(), false, ""));
        String line = "\tat com.example.Deep.recursion(Deep.java:42) " + "y".repeat(16 * 1024 - 60) + "\n";
        long offset = 0;
        long maxHeld = 0;
        long maxCapacity = 0;
        f.assembler.accept(new DockerEntry("Exception in thread main\n", "stdout", T1, 0, 100), 1, Feed.FILE);
        offset = 100;
        for (long i = 0; i < TWO_HUNDRED_MB / line.length(); i++) {
            f.assembler.accept(new DockerEntry(line, "stdout", T1, offset, offset + line.length() + 60), 1, Feed.FILE);
            offset += line.length() + 60;
            maxHeld = Math.max(maxHeld, f.assembler.heldBytes());
            maxCapacity = Math.max(maxCapacity, f.assembler.heldCapacity());
        }
        assertThat(maxHeld).isLessThanOrEqualTo(maxBytes);
        assertThat(maxCapacity).isLessThanOrEqualTo(2L * maxBytes + 2);
        assertThat(f.messages).isEmpty();
        f.line("stdout", "next");              // ends the event (and starts one that may continue)
        assertThat(f.messages).hasSize(1);
        assertThat(utf8(f.messages.get(0).text())).isLessThanOrEqualTo(maxBytes);
        assertThat(f.messages.get(0).flags()).isEqualTo(Message.MULTILINE | Message.TRUNCATED);
    }

    @Test
    void aMillionShortContinuationLinesKeepMaxLines() throws Exception {
        Feed f = new Feed(Feed.settings(Streams.ALL, Feed.rule("custom", Regexes.compile("^\\s"), false, true, 500),
                1 << 20, List.of(), List.of(), false, ""));
        f.assembler.accept(new DockerEntry("start\n", "stdout", T1, 0, 10), 1, Feed.FILE);
        long offset = 10;
        long maxHeld = 0;
        for (int i = 0; i < 1_000_000; i++) {
            f.assembler.accept(new DockerEntry(" c\n", "stdout", T1, offset, offset + 10), 1, Feed.FILE);
            offset += 10;
            maxHeld = Math.max(maxHeld, f.assembler.heldBytes());
        }
        assertThat(maxHeld).isEqualTo("start".length() + 499L * 3);
        f.assembler.flushAll();
        assertThat(f.messages.get(0).text().split("\n")).hasSize(500);
        assertThat(f.ackAll()).isEqualTo(offset);
    }
}
