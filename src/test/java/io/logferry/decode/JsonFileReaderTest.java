package io.logferry.decode;

import io.logferry.model.Cursor;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The json-file line loop on a real file: identity of the first line, long lines, the buffer's life. */
class JsonFileReaderTest {
    @TempDir
    Path dir;

    private final List<Message> messages = new ArrayList<>();
    private final List<Cursor> skips = new ArrayList<>();
    private final List<String> malformed = new ArrayList<>();
    private final List<Integer> identified = new ArrayList<>();
    private final MessageAssembler assembler = new MessageAssembler(Feed.settings(Streams.ALL), new MessageAssembler.Sink() {
        @Override
        public void message(Message m) {
            messages.add(m);
        }

        @Override
        public void skipped(Cursor commit) {
            skips.add(commit);
        }
    });
    private final JsonFileReader reader = new JsonFileReader(assembler, new JsonFileReader.Listener() {
        @Override
        public String identify(byte[] line, int off, int len) {
            identified.add(len);
            return "id" + len;
        }

        @Override
        public void malformed(long offset, String why) {
            malformed.add(offset + ": " + why);
        }

        @Override
        public void read(boolean atEnd) {
            seen.add("read " + (atEnd ? "to the end" : "a full buffer"));
        }

        @Override
        public void entry(String dockerTime) {
            seen.add("entry " + dockerTime + " (" + messages.size() + " messages before)");
        }
    });
    private final List<String> seen = new ArrayList<>();

    private int readAll(FileChannel ch) throws IOException, InterruptedException {
        JsonFileReader.Source src = JsonFileReader.Source.of(ch);
        int total = 0;
        for (int n; (n = reader.readOnce(src)) > 0; ) {
            total += n;
        }
        return total;
    }

    @Test
    void aFileOpenedWithoutAnIdIsNamedByItsFirstLineAndTheUnfinishedLineWaits() throws Exception {
        String first = Feed.entry("a\n", "stdout", "2024-05-01T10:00:00.000000001Z");
        String second = Feed.entry("b\n", "stdout", "2024-05-01T10:00:00.000000002Z");
        Path f = Files.writeString(dir.resolve("log"), first + second.substring(0, 10));
        try (FileChannel ch = FileChannel.open(f)) {
            assertThat(reader.bufferBytes()).as("nothing read yet: no buffer").isZero();
            reader.open(null, 0);
            readAll(ch);
            assertThat(identified).containsExactly(first.length() - 1);
            assertThat(reader.fileId()).isEqualTo("id" + (first.length() - 1));
            assertThat(messages).extracting(Message::text).containsExactly("a");
            assertThat(reader.lineStart()).isEqualTo(first.length());
            assertThat(reader.unfinished()).isEqualTo(10);
            Files.writeString(f, second.substring(10), StandardOpenOption.APPEND);
            readAll(ch);
            assertThat(messages).extracting(Message::text).containsExactly("a", "b");
            assertThat(reader.position()).isEqualTo(Files.size(f)).isEqualTo(reader.lineStart());
            assertThat(messages.get(1).commit()).isEqualTo(new Cursor(1, "id" + (first.length() - 1), Files.size(f)));
            reader.releaseIfIdle(System.nanoTime() + 1, 0);
            assertThat(reader.bufferBytes()).as("idle: the buffer goes").isZero();
        }
    }

    @Test
    void aFileOpenedInTheMiddleIsUnknownUnlessNamedAndEachOpenIsANewFileSequence() throws Exception {
        String first = Feed.entry("a\n", "stdout", "2024-05-01T10:00:00.000000001Z");
        String second = Feed.entry("b\n", "stdout", "2024-05-01T10:00:00.000000002Z");
        Path f = Files.writeString(dir.resolve("log"), first + second);
        try (FileChannel ch = FileChannel.open(f)) {
            reader.open(null, first.length());
            readAll(ch);
            assertThat(messages.get(0).commit()).isEqualTo(new Cursor(1, "unknown", Files.size(f)));
            reader.open("given", 0);
            readAll(ch);
            assertThat(identified).isEmpty();
            assertThat(messages.get(2).commit()).isEqualTo(new Cursor(2, "given", Files.size(f)));
        }
    }

    @Test
    void aLineLongerThanTheLimitIsSkippedToItsEndOnceReportedAndTheNextLineIsRead() throws Exception {
        Path f = dir.resolve("log");
        byte[] huge = new byte[JsonFileReader.MAX_LINE + 1000];
        Arrays.fill(huge, (byte) 'x');
        huge[huge.length - 1] = '\n';
        Files.write(f, huge);
        String next = Feed.entry("after\n", "stdout", "2024-05-01T10:00:00.000000001Z");
        Files.writeString(f, next, StandardOpenOption.APPEND);
        try (FileChannel ch = FileChannel.open(f)) {
            reader.open(null, 0);
            readAll(ch);
        }
        assertThat(malformed).containsExactly("0: a line longer than " + JsonFileReader.MAX_LINE + " bytes");
        assertThat(identified).as("named by its first bytes").containsExactly(JsonFileReader.MAX_LINE);
        assertThat(skips).extracting(Cursor::offset).containsExactly((long) huge.length);
        assertThat(messages).extracting(Message::text).containsExactly("after");
        assertThat(reader.bufferBytes()).isLessThanOrEqualTo(JsonFileReader.MAX_LINE);
    }

    @Test
    void aMalformedLineIsSkippedWithItsCursorAndReported() throws Exception {
        String good = Feed.entry("ok\n", "stdout", "2024-05-01T10:00:00.000000001Z");
        Path f = Files.writeString(dir.resolve("log"), "garbage\n" + good, StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(f)) {
            reader.open("f", 0);
            readAll(ch);
        }
        assertThat(skips).containsExactly(new Cursor(1, "f", 8));
        assertThat(malformed).hasSize(1).first().asString().startsWith("0: ");
        assertThat(messages).extracting(Message::text).containsExactly("ok");
    }

    @Test
    void theListenerHearsOfEachReadBeforeItsLinesAndOfEachLinesDockerTime() throws Exception {
        StringBuilder log = new StringBuilder();
        int lines = 0;
        while (log.length() <= JsonFileReader.INITIAL_BUFFER) {
            log.append(Feed.entry("line " + lines + "\n", "stdout", "2024-05-01T10:00:00." + (100_000_000 + lines) + "Z"));
            lines++;
        }
        Path f = Files.writeString(dir.resolve("log"), log);
        try (FileChannel ch = FileChannel.open(f)) {
            reader.open("given", 0);
            readAll(ch);
        }
        assertThat(messages).hasSize(lines);
        // the first read fills the buffer (the tailer is behind), the second reaches the end; each line's time before its message
        assertThat(seen.get(0)).isEqualTo("read a full buffer");
        assertThat(seen.get(1)).isEqualTo("entry 2024-05-01T10:00:00.100000000Z (0 messages before)");
        assertThat(seen).filteredOn(s -> s.startsWith("read ")).containsExactly("read a full buffer", "read to the end");
        assertThat(seen).filteredOn(s -> s.startsWith("entry ")).hasSize(lines);
        int second = seen.indexOf("read to the end");
        assertThat(seen.subList(1, second)).as("the first read's lines, before the second read").allMatch(s -> s.startsWith("entry "));
    }
}
