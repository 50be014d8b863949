package io.logferry.decode;

import io.logferry.event.Cursor;
import io.logferry.selection.ContainerSettings;

import java.util.regex.Pattern;

/**
 * Turns json-file entries of one container into messages: joins Docker's partial entries,
 * truncates at {@code max_bytes}, joins multiline events, applies the stream and line filters
 * and JSON decoding. State is per stream, so stdout and stderr lines are never joined together.
 * Owned by one tailer thread. Memory is bounded by {@code max_bytes} per stream whatever the
 * container writes: bytes beyond it are counted, not kept.
 */
public final class MessageAssembler {

    /** Where messages go, and where the cursor advances over bytes that produce no message. */
    public interface Sink {
        void message(Message m) throws InterruptedException;

        void skipped(Cursor commit);
    }

    private final ContainerSettings settings;
    private final Sink sink;
    private final StreamState out = new StreamState();
    private final StreamState err = new StreamState();

    public MessageAssembler(ContainerSettings settings, Sink sink) {
        this.settings = settings;
        this.sink = sink;
    }

    private static final class StreamState {
        // partial entries being joined
        StringBuilder partial;
        Cursor partialStart;
        String partialTime;
        boolean partialTruncated;
        // multiline event being joined
        StringBuilder lines;
        Cursor linesStart;
        Cursor linesEnd;
        String linesTime;
        int lineCount;
        int linesFlags;
        long lastNanos;

        Cursor pendingStart() {
            return Cursor.min(partialStart, linesStart);
        }
    }

    /** The earliest cursor of anything still held: nothing before it may be committed. */
    public Cursor earliestPending() {
        return Cursor.min(out.pendingStart(), err.pendingStart());
    }

    public void accept(DockerEntry e, long fileSeq, String fileId) throws InterruptedException {
        Cursor start = new Cursor(fileSeq, fileId, e.start());
        Cursor end = new Cursor(fileSeq, fileId, e.end());
        if (!settings.ships(e.stream())) {
            sink.skipped(safe(end));
            return;
        }
        StreamState st = e.stream().equals("stderr") ? err : out;
        String log = e.log();
        if (e.partial()) {
            if (st.partial == null) {
                st.partial = new StringBuilder(Math.min(log.length() * 2, settings.maxBytes()));
                st.partialStart = start;
                st.partialTime = e.time();
            }
            appendBounded(st, log);
            return;
        }
        int flags = 0;
        String time = e.time();
        if (st.partial != null) {
            appendBounded(st, log);
            log = st.partial.toString();
            start = st.partialStart;
            time = st.partialTime;
            flags |= Message.PARTIAL | (st.partialTruncated ? Message.TRUNCATED : 0);
            st.partial = null;
            st.partialStart = null;
            st.partialTruncated = false;
        }
        String text = stripNewline(log);
        if (exceeds(text, settings.maxBytes())) {
            text = truncate(text, settings.maxBytes());
            flags |= Message.TRUNCATED;
        }
        ContainerSettings.MultilineRule rule = settings.multiline();
        if (!rule.enabled()) {
            emit(e.stream(), time, text, start, end, flags);
            return;
        }
        boolean continues = rule.pattern().matcher(text).find() != rule.negate();
        if (rule.matchAfter()) {
            if (continues && st.lines != null) {
                appendLine(st, text, end, flags, rule);
            } else {
                flushLines(e.stream(), st);
                startLines(st, text, time, start, end, flags);
            }
        } else {
            if (st.lines == null) {
                startLines(st, text, time, start, end, flags);
            } else {
                appendLine(st, text, end, flags, rule);
            }
            if (!continues) {
                flushLines(e.stream(), st);
            }
        }
    }

    private void startLines(StreamState st, String text, String time, Cursor start, Cursor end, int flags) {
        st.lines = new StringBuilder(text);
        st.linesStart = start;
        st.linesEnd = end;
        st.linesTime = time;
        st.lineCount = 1;
        st.linesFlags = flags;
        st.lastNanos = System.nanoTime();
    }

    private void appendLine(StreamState st, String text, Cursor end, int flags, ContainerSettings.MultilineRule rule) {
        st.linesEnd = end;
        st.lastNanos = System.nanoTime();
        st.linesFlags |= flags | Message.MULTILINE;
        if (st.lineCount >= rule.maxLines() || exceeds(st.lines, settings.maxBytes() - text.length() - 1)) {
            st.linesFlags |= Message.TRUNCATED;
            return;
        }
        st.lines.append('\n').append(text);
        st.lineCount++;
    }

    private void flushLines(String stream, StreamState st) throws InterruptedException {
        if (st.lines == null) {
            return;
        }
        String text = st.lines.toString();
        Cursor start = st.linesStart;
        Cursor end = st.linesEnd;
        String time = st.linesTime;
        int flags = st.linesFlags;
        st.lines = null;
        st.linesStart = null;
        st.linesEnd = null;
        emit(stream, time, text, start, end, flags);
    }

    /** Sends multiline events that have been quiet for their timeout; called when the tailer idles. */
    public void flushIdle(long nowNanos) throws InterruptedException {
        long timeout = settings.multiline().timeout().toNanos();
        if (out.lines != null && nowNanos - out.lastNanos >= timeout) {
            flushLines("stdout", out);
        }
        if (err.lines != null && nowNanos - err.lastNanos >= timeout) {
            flushLines("stderr", err);
        }
    }

    /** Sends everything held, partial lines included (the container is gone, nothing more will come). */
    public void flushAll() throws InterruptedException {
        flushLines("stdout", out);
        flushLines("stderr", err);
        flushPartial("stdout", out);
        flushPartial("stderr", err);
    }

    private void flushPartial(String stream, StreamState st) throws InterruptedException {
        if (st.partial == null) {
            return;
        }
        String text = st.partial.toString();
        Cursor start = st.partialStart;
        int flags = Message.PARTIAL | (st.partialTruncated ? Message.TRUNCATED : 0);
        String time = st.partialTime;
        st.partial = null;
        st.partialStart = null;
        // the cursor after the last partial entry is not known here; the start is safe to commit
        emit(stream, time, stripNewline(text), start, start, flags);
    }

    private void emit(String stream, String time, String text, Cursor start, Cursor end, int flags) throws InterruptedException {
        Cursor commit = safe(end);
        if (!wanted(text)) {
            sink.skipped(commit);
        } else if (settings.json()) {
            JsonMessage.Result r = JsonMessage.decode(text, settings.jsonMessageKey());
            sink.message(new Message(stream, time, r.text(), start, commit, flags, r.fields(), r.level(), r.error()));
        } else {
            sink.message(new Message(stream, time, text, start, commit, flags, null, null, null));
        }
    }

    /** include_lines (any matches, when given) and exclude_lines (none matches), as Filebeat applies them. */
    private boolean wanted(String text) {
        boolean included = settings.includeLines().isEmpty();
        for (Pattern p : settings.includeLines()) {
            if (p.matcher(text).find()) {
                included = true;
                break;
            }
        }
        if (!included) {
            return false;
        }
        for (Pattern p : settings.excludeLines()) {
            if (p.matcher(text).find()) {
                return false;
            }
        }
        return true;
    }

    /** Bytes up to {@code end} produce no message (a malformed line): advance the cursor over them. */
    public void skip(Cursor end) {
        sink.skipped(safe(end));
    }

    private Cursor safe(Cursor end) {
        return Cursor.min(end, earliestPending());
    }

    private void appendBounded(StreamState st, String log) {
        int room = settings.maxBytes() - utf8Length(st.partial);
        if (log.length() <= room / 3 || utf8Length(log) <= room) {
            st.partial.append(log);
        } else {
            if (room > 0) {
                st.partial.append(truncate(log, room));
            }
            st.partialTruncated = true;
        }
    }

    private static String stripNewline(String s) {
        int n = s.length();
        if (n > 0 && s.charAt(n - 1) == '\n') {
            n--;
            if (n > 0 && s.charAt(n - 1) == '\r') {
                n--;
            }
        }
        return n == s.length() ? s : s.substring(0, n);
    }

    static boolean exceeds(CharSequence s, int maxBytes) {
        if (maxBytes < 0) {
            return true;
        }
        return s.length() > maxBytes / 3 && utf8Length(s) > maxBytes;
    }

    static int utf8Length(CharSequence s) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 4 : Character.isLowSurrogate(c) ? 0 : 3;
        }
        return n;
    }

    /** The longest prefix of at most {@code maxBytes} UTF-8 bytes, never splitting a character. */
    static String truncate(String s, int maxBytes) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int w = c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 4 : 3;
            if (n + w > maxBytes) {
                return s.substring(0, i);
            }
            n += w;
            if (w == 4) {
                i++;
            }
        }
        return s;
    }
}
