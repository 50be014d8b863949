package io.logferry.decode;

import io.logferry.model.TestSettings;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LinePattern;
import io.logferry.model.LogEvent;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Feeds json-file bytes to a {@link MessageAssembler} through the file tailer's own line loop,
 * {@link JsonFileReader} (split at '\n', each complete line decoded, a malformed one counted and
 * skipped, a last line without its newline left for later), as if they were appended to a file.
 * Records what comes out, in order, and acknowledges through a real {@link AckTracker} to see how
 * far the offset may be committed.
 */
final class Feed implements MessageAssembler.Sink {
    static final String FILE = "f00d";

    /** A message, or a malformed line ({@code error} set). */
    record Out(Message message, String error) { }

    final List<Out> out = new ArrayList<>();
    final List<Message> messages = new ArrayList<>();
    final List<Cursor> skips = new ArrayList<>();
    final List<LogEvent> events = new ArrayList<>();
    final List<String> filtered = new ArrayList<>();
    final AckTracker tracker = new AckTracker("c1", null);
    final MessageAssembler assembler;
    int malformed;
    long nanos = 1_000_000_000L;
    private final LongSupplier clock = () -> nanos;
    private final JsonFileReader reader;
    /** The "file": bytes from offset {@code base} that the reader has not read yet. */
    private byte[] unread = new byte[0];
    private long base;
    private final JsonFileReader.Source file = new JsonFileReader.Source() {
        @Override
        public long size() {
            return base + unread.length;
        }

        @Override
        public int read(ByteBuffer dst, long position) {
            int from = (int) (position - base);
            int n = Math.min(dst.remaining(), unread.length - from);
            if (n <= 0) {
                return -1;
            }
            dst.put(unread, from, n);
            return n;
        }
    };

    Feed(ContainerSettings settings) {
        assembler = new MessageAssembler(settings, this, clock);
        reader = new JsonFileReader(assembler, new JsonFileReader.Listener() {
            @Override
            public String identify(byte[] line, int off, int len) {
                return FILE;
            }

            @Override
            public void malformed(long offset, String why) {
                malformed++;
                out.add(new Out(null, why));
            }
        });
        reader.open(FILE, 0);
    }

    static ContainerSettings settings(Streams streams) {
        return settings(streams, none(), 1 << 20, List.of(), List.of(), false, "");
    }

    static ContainerSettings.MultilineRule none() {
        return TestSettings.NO_MULTILINE;
    }

    static ContainerSettings.MultilineRule rule(String type, LinePattern pattern, boolean negate, boolean after, int maxLines) {
        return new ContainerSettings.MultilineRule(type, pattern, negate, after, maxLines, Duration.ofSeconds(5));
    }

    static ContainerSettings settings(Streams streams, ContainerSettings.MultilineRule multiline, int maxBytes,
                                      List<LinePattern> include, List<LinePattern> exclude, boolean json, String messageKey) {
        return TestSettings.of("docker", "default", streams, StartPosition.BEGINNING, multiline,
                json, messageKey, maxBytes, include, exclude, Map.of());
    }

    @Override
    public void message(Message m) {
        out.add(new Out(m, null));
        messages.add(m);
        LogEvent e = new LogEvent(tracker, new byte[0], 0, m.commit());
        tracker.published(e);
        events.add(e);
    }

    @Override
    public void filtered(String reason) {
        filtered.add(reason);
    }

    @Override
    public void skipped(Cursor commit) {
        skips.add(commit);
        tracker.skipped(commit);
    }

    /** Appends bytes to the "file" and processes every complete line. */
    Feed bytes(byte[] b) throws InterruptedException {
        byte[] more = Arrays.copyOf(unread, unread.length + b.length);
        System.arraycopy(b, 0, more, unread.length, b.length);
        unread = more;
        try {
            while (reader.readOnce(file) > 0) {
                // every complete line goes to the assembler
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        unread = Arrays.copyOfRange(unread, (int) (reader.position() - base), unread.length);
        base = reader.position();
        return this;
    }

    Feed text(String s) throws InterruptedException {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** One json-file line as Docker writes it. */
    static String entry(String log, String stream, String time) {
        return "{\"log\":" + quote(log) + ",\"stream\":\"" + stream + "\",\"time\":\"" + time + "\"}\n";
    }

    Feed line(String stream, String text) throws InterruptedException {
        return text(entry(text + "\n", stream, "2024-05-01T10:00:00.000000001Z"));
    }

    Feed lines(String stream, String... texts) throws InterruptedException {
        for (String t : texts) {
            line(stream, t);
        }
        return this;
    }

    /** Acknowledges every message published so far, in reverse order, and returns the committed offset (0 when none). */
    long ackAll() {
        for (int i = events.size() - 1; i >= 0; i--) {
            events.get(i).ack();
        }
        Cursor c = tracker.committed();
        return c == null ? 0 : c.offset();
    }

    long committed() {
        Cursor c = tracker.committed();
        return c == null ? 0 : c.offset();
    }

    List<String> texts() {
        return messages.stream().map(Message::text).toList();
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

    static String quote(String s) {
        try {
            return MAPPER.writeValueAsString(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
