package io.logferry.decode;

import io.logferry.model.BufferBudget;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.JsonOptions;
import io.logferry.model.LinePattern;

import io.logferry.model.Utf8;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Turns json-file entries of one container into messages: joins Docker's partial entries,
 * truncates at {@code max_bytes}, joins multiline events, applies the stream and line filters
 * and JSON decoding. State is per stream, so stdout and stderr lines are never joined together.
 * Owned by one tailer thread. Memory is bounded whatever the container writes: per stream, a
 * partial line holds at most {@code max_bytes} of UTF-8 and a multiline event at most
 * {@code max_bytes} and {@code max_lines}; bytes beyond are dropped (the message flagged
 * {@code truncated}), never kept ({@link #heldBytes()} ≤ 4 × {@code max_bytes}; the builders'
 * capacity at most twice that in chars). {@code max_bytes} and {@code max_lines} come from the
 * selection, which holds them under {@code limits.*}. Across containers, what every assembler holds
 * counts against one {@link BufferBudget} ({@code limits.buffers_max_bytes}): a buffer it refuses,
 * or asks back, is sent at once as it is, flagged {@code truncated}, and the rest of its line dropped.
 *
 * <pre>
 *   entry ─► stream filter ─► partial join (bounded) ─► line ─► multiline (bounded) ─► include/exclude ─► JSON
 *         ─► processors (the container's chain; a drop_event acknowledged like an excluded line) ─► Sink
 * </pre>
 *
 * <p>Invariant: every cursor handed to the {@link Sink} is at most the start of anything still
 * held (a partial line or a multiline event, on either stream), so that committing it never
 * skips bytes that have not become a message yet.
 */
public final class MessageAssembler {

    /** Where messages go, and where the cursor advances over bytes that produce no message. */
    public interface Sink {
        void message(Message m) throws InterruptedException;

        void skipped(Cursor commit);

        /** A message or entry was left out on purpose: {@code reason} is "stream", "line_filter" or "drop_event". */
        default void filtered(String reason) {
        }

        /**
         * A line or message could not become a document ({@link Failure}): it takes its place in the
         * order (a dead letter), so that the cursor moves over it once that is acknowledged.
         */
        default void failed(Failure f) throws InterruptedException {
            skipped(f.commit());
        }
    }

    private final ContainerSettings settings;
    private final Sink sink;
    private final LongSupplier nanoClock;
    private final StreamState out = new StreamState("stdout");
    private final StreamState err = new StreamState("stderr");

    public MessageAssembler(ContainerSettings settings, Sink sink) {
        this(settings, sink, System::nanoTime);
    }

    /** @param nanoClock the time source of the multiline timeout ({@link System#nanoTime()}; tests pass their own) */
    public MessageAssembler(ContainerSettings settings, Sink sink, LongSupplier nanoClock) {
        this(settings, sink, nanoClock, BufferBudget.unbounded());
    }

    /**
     * @param budget the agent's one budget of buffered bytes ({@code limits.buffers_max_bytes}), shared by every
     *               container's partial lines and multiline events: beyond it the largest is cut
     */
    public MessageAssembler(ContainerSettings settings, Sink sink, LongSupplier nanoClock, BufferBudget budget) {
        for (StreamState st : new StreamState[] {out, err}) {
            st.partialHold = budget.holder();
            st.linesHold = budget.holder();
        }
        this.settings = settings;
        this.sink = sink;
        this.nanoClock = nanoClock;
        boolean textUnread = !settings.multiline().enabled() && !settings.json()
                && settings.includeLines().isEmpty() && settings.excludeLines().isEmpty() && settings.processors().isEmpty();
        this.escapedLimit = textUnread ? Math.max(settings.maxBytes(), 0) : 0;
    }

    private final int escapedLimit;

    /**
     * How long a line's escaped text may be for the decoder to hand it over as it is
     * ({@link DockerEntry#escaped()}): {@code max_bytes} when no rule of this container reads the
     * text (no multiline, JSON or line filter), else 0, meaning never. Escaped text is at least
     * as long as its UTF-8, so such a line never needs truncating.
     */
    public int escapedLimit() {
        return escapedLimit;
    }

    private static final class StreamState {
        final String name;
        // partial entries being joined
        StringBuilder partial;
        int partialBytes;
        Cursor partialStart;
        Cursor partialEnd;
        String partialTime;
        Map<String, String> partialAttrs;
        boolean partialTruncated;
        /** The partial line was cut for the budget: its remaining entries are dropped up to its last. */
        boolean partialDropping;
        BufferBudget.Holder partialHold;
        BufferBudget.Holder linesHold;
        // multiline event being joined
        StringBuilder lines;
        int linesBytes;
        Cursor linesStart;
        Cursor linesEnd;
        String linesTime;
        Map<String, String> linesAttrs;
        int lineCount;
        int linesFlags;
        long lastNanos;

        StreamState(String name) {
            this.name = name;
        }

        Cursor pendingStart() {
            return Cursor.min(partialStart, linesStart);
        }
    }

    /**
     * The UTF-8 bytes held for messages not complete yet (partial lines and multiline events, both
     * streams): at most 4 × {@code max_bytes} (a partial line and a multiline event per stream),
     * whatever the container writes. For tests and the fuzz test; owned by the tailer's thread.
     */
    public long heldBytes() {
        return (long) out.partialBytes + out.linesBytes + err.partialBytes + err.linesBytes;
    }

    /** The chars the builders behind {@link #heldBytes()} have room for: what they retain in memory. */
    public long heldCapacity() {
        long n = 0;
        for (StreamState st : new StreamState[] {out, err}) {
            n += (st.partial == null ? 0 : st.partial.capacity()) + (st.lines == null ? 0 : st.lines.capacity());
        }
        return n;
    }

    /** The earliest cursor of anything still held: nothing before it may be committed. */
    public Cursor earliestPending() {
        return Cursor.min(out.pendingStart(), err.pendingStart());
    }

    public void accept(DockerEntry e, long fileSeq, String fileId) throws InterruptedException {
        Cursor start = new Cursor(fileSeq, fileId, e.start());
        Cursor end = new Cursor(fileSeq, fileId, e.end());
        if (!settings.ships(e.stream())) {
            sink.filtered("stream");
            sink.skipped(safe(end));
            return;
        }
        StreamState st = e.stream().equals("stderr") ? err : out;
        honourCuts();
        if (st.partialDropping) {
            // the rest of a line cut for the budget
            st.partialDropping = e.partial();
            sink.skipped(safe(end));
            return;
        }
        if (e.escaped() != null && st.partial == null) {
            // a whole line that no rule reads (see escapedLimit): a message as it is
            sink.message(new Message(st.name, e.time(), null, start, safe(end), 0, null, null, null, e.attrs(), e.escaped()));
            return;
        }
        String log = e.log();
        if (e.partial()) {
            if (st.partial == null) {
                st.partial = new StringBuilder(Math.min(log.length() * 2, settings.maxBytes()));
                st.partialBytes = 0;
                st.partialStart = start;
                st.partialTime = e.time();
                st.partialAttrs = e.attrs();
            }
            if (!appendBounded(st, log)) {
                cutPartial(st, end);
                st.partialDropping = true;
                return;
            }
            st.partialEnd = end;
            return;
        }
        if (st.partial != null) {
            // the newline is not part of the text: it must not count against max_bytes
            if (!appendBounded(st, stripNewline(log))) {
                cutPartial(st, end);         // its last entry: nothing more to drop
                return;
            }
            int n = st.partial.length();
            if (n > 0 && st.partial.charAt(n - 1) == '\r' && log.equals("\n")) {
                st.partial.setLength(n - 1);      // "...\r" + "\n" split across entries
            }
            completePartial(st, end);
            return;
        }
        line(st, log, e.time(), start, end, 0, e.attrs());
    }

    /**
     * A whole entry whose end was dropped before it reached the assembler (the Docker logs API's
     * line buffer, cut for the budget): a line like any other, flagged {@code truncated}.
     */
    public void acceptCut(DockerEntry e, long fileSeq, String fileId) throws InterruptedException {
        Cursor start = new Cursor(fileSeq, fileId, e.start());
        Cursor end = new Cursor(fileSeq, fileId, e.end());
        if (!settings.ships(e.stream())) {
            sink.filtered("stream");
            sink.skipped(safe(end));
            return;
        }
        line(e.stream().equals("stderr") ? err : out, e.log(), e.time(), start, end, Message.TRUNCATED, e.attrs());
    }

    /** The partial entries held become one line, ending at {@code end}. */
    private void completePartial(StreamState st, Cursor end) throws InterruptedException {
        String log = st.partial.toString();
        Cursor start = st.partialStart;
        String time = st.partialTime;
        Map<String, String> attrs = st.partialAttrs;
        int flags = Message.PARTIAL | (st.partialTruncated ? Message.TRUNCATED : 0);
        clearPartial(st);
        line(st, log, time, start, end, flags, attrs);
    }

    /** One complete line of one stream: truncated, then joined by the multiline rule or emitted. */
    private void line(StreamState st, String log, String time, Cursor start, Cursor end, int flags,
                      Map<String, String> attrs) throws InterruptedException {
        String text = stripNewline(log);
        if (exceeds(text, settings.maxBytes())) {
            text = Utf8.truncate(text, settings.maxBytes());
            flags |= Message.TRUNCATED;
        }
        ContainerSettings.MultilineRule rule = settings.multiline();
        if (!rule.enabled()) {
            emit(st.name, time, text, start, end, flags, attrs);
            return;
        }
        boolean continues = rule.pattern().find(text) != rule.negate();
        if (rule.matchAfter()) {
            if (continues && st.lines != null) {
                appendLine(st, text, end, flags, rule);
            } else {
                flushLines(st);
                startLines(st, text, time, start, end, flags, attrs);
            }
        } else {
            if (st.lines == null) {
                startLines(st, text, time, start, end, flags, attrs);
            } else {
                appendLine(st, text, end, flags, rule);
            }
            if (!continues) {
                flushLines(st);
            }
        }
    }

    private void startLines(StreamState st, String text, String time, Cursor start, Cursor end, int flags,
                            Map<String, String> attrs) throws InterruptedException {
        int bytes = Utf8.length(text);
        if (!st.linesHold.grow(bytes)) {
            // no room in the budget to wait for continuation lines: the line goes alone, flagged
            st.linesHold.release();
            emit(st.name, time, text, start, end, flags | Message.TRUNCATED, attrs);
            return;
        }
        st.lines = new StringBuilder(text);
        st.linesBytes = bytes;
        st.linesStart = start;
        st.linesEnd = end;
        st.linesTime = time;
        st.linesAttrs = attrs;
        st.lineCount = 1;
        st.linesFlags = flags;
        st.lastNanos = nanoClock.getAsLong();
    }

    private void appendLine(StreamState st, String text, Cursor end, int flags, ContainerSettings.MultilineRule rule)
            throws InterruptedException {
        st.linesEnd = end;
        st.lastNanos = nanoClock.getAsLong();
        st.linesFlags |= flags | Message.MULTILINE;
        if (st.lineCount >= rule.maxLines()) {
            st.linesFlags |= Message.TRUNCATED;       // lines beyond max_lines are consumed and dropped
            return;
        }
        int room = settings.maxBytes() - st.linesBytes - 1;
        if (room < 0) {
            st.linesFlags |= Message.TRUNCATED;
            return;
        }
        int bytes = Utf8.length(text);
        if (bytes > room) {
            text = Utf8.truncate(text, room);
            bytes = Utf8.length(text);
            st.linesFlags |= Message.TRUNCATED;
        }
        if (!st.linesHold.grow(1L + bytes)) {
            // the budget is full: the event is sent as it is, this line is dropped like one beyond max_bytes
            st.linesFlags |= Message.TRUNCATED;
            flushLines(st);
            return;
        }
        st.lines.append('\n').append(text);
        st.linesBytes += 1 + bytes;
        st.lineCount++;
    }

    private void flushLines(StreamState st) throws InterruptedException {
        if (st.lines == null) {
            return;
        }
        String text = st.lines.toString();
        Cursor start = st.linesStart;
        Cursor end = st.linesEnd;
        String time = st.linesTime;
        Map<String, String> attrs = st.linesAttrs;
        int flags = st.linesFlags;
        clearLines(st);
        emit(st.name, time, text, start, end, flags, attrs);
    }

    /** Sends multiline events that have been quiet for their timeout; called when the tailer idles. */
    public void flushIdle(long nowNanos) throws InterruptedException {
        honourCuts();
        long timeout = settings.multiline().timeout().toNanos();
        for (StreamState st : new StreamState[] {out, err}) {
            if (st.lines != null && nowNanos - st.lastNanos >= timeout) {
                flushLines(st);
            }
        }
    }

    /** Whether it holds a partial line or multiline lines that {@link #flushIdle} may have to send on a timeout. */
    public boolean holding() {
        return out.partial != null || out.lines != null || err.partial != null || err.lines != null;
    }

    /** {@link #flushIdle(long)} at the assembler's clock. */
    public void flushIdle() throws InterruptedException {
        flushIdle(nanoClock.getAsLong());
    }

    /**
     * Sends everything held, partial lines included (the container is gone, nothing more will
     * come). A partial line still goes through the multiline rule, after the lines before it.
     */
    public void flushAll() throws InterruptedException {
        for (StreamState st : new StreamState[] {out, err}) {
            st.partialDropping = false;
            if (st.partial != null) {
                completePartial(st, st.partialEnd);
            }
            flushLines(st);
        }
    }

    private void emit(String stream, String time, String text, Cursor start, Cursor end, int flags,
                      Map<String, String> attrs) throws InterruptedException {
        Cursor commit = safe(end);
        Message m;
        String[] reason = new String[1];
        try {
            if (!wanted(text)) {
                reason[0] = "line_filter";
                m = null;
            } else if (settings.json()) {
                JsonOptions o = settings.jsonOptions();
                JsonMessage.Result r = JsonMessage.decode(text, settings.jsonMessageKey(), settings.jsonTarget(), settings.fieldLimits(),
                        o.overwriteKeys());
                m = process(new Message(stream, r.time() != null ? r.time() : time, r.text(), start, commit, flags, r.fields(), r.level(),
                        o.addErrorKey() ? r.error() : null, attrs), reason);
            } else {
                m = process(new Message(stream, time, text, start, commit, flags, null, null, null, attrs), reason);
            }
        } catch (RuntimeException | StackOverflowError e) {
            // the message's boundary: whatever its filters, JSON or processors do costs this message only
            sink.failed(Failure.of(start, commit, stream, time, text, e));
            return;
        }
        if (m == null) {
            sink.filtered(reason[0]);
            sink.skipped(commit);
        } else {
            sink.message(m);
        }
    }

    /** The container's processors, when it has any: the message they leave, or null when one dropped it ({@code reason[0]} says why). */
    private Message process(Message m, String[] reason) {
        return settings.processors().isEmpty() ? m : Processing.apply(m, settings.processors(), reason);
    }

    /** include_lines (any matches, when given) and exclude_lines (none matches), as Filebeat applies them. */
    private boolean wanted(String text) {
        boolean included = settings.includeLines().isEmpty();
        for (LinePattern p : settings.includeLines()) {
            if (p.find(text)) {
                included = true;
                break;
            }
        }
        if (!included) {
            return false;
        }
        for (LinePattern p : settings.excludeLines()) {
            if (p.find(text)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Bytes up to {@code end} produce no message (a malformed line): advance the cursor over them.
     * A partial line held on either stream will never get its end now: it is sent as it is,
     * flagged partial (Filebeat's docker reader does the same).
     */
    public void skip(Cursor end) throws InterruptedException {
        for (StreamState st : new StreamState[] {out, err}) {
            st.partialDropping = false;
            if (st.partial != null) {
                completePartial(st, st.partialEnd);
            }
        }
        sink.skipped(safe(end));
    }

    /**
     * The json-file line (or API line) {@code raw}, from {@code start} to {@code end}, made
     * something throw on its way through the assembler (see {@link Failure#containable}): it goes
     * to the dead-letter stream as read, and the cursor moves over it. What the assembler still
     * holds from before stays held, and bounds the commit as always.
     */
    public void failed(String raw, Cursor start, Cursor end, Throwable error) throws InterruptedException {
        sink.failed(Failure.of(start, safe(end), null, null, raw, error));
    }

    /**
     * The line {@code raw} was in flight when the agent exited (the poison pill): it is not
     * processed again but dead-lettered as read. What the assembler held (a partial line, a
     * multiline event: either could be what this line was completing when the agent died) is
     * dead-lettered the same way, as its text, not processed.
     */
    public void inFlight(String raw, Cursor start, Cursor end) throws InterruptedException {
        for (StreamState st : new StreamState[] {out, err}) {
            if (st.partial != null) {
                Cursor s0 = st.partialStart;
                String text = st.partial.toString();
                String time = st.partialTime;
                clearPartial(st);
                sink.failed(Failure.inFlight(s0, safe(end), st.name, time, text));
            }
            if (st.lines != null) {
                Cursor s0 = st.linesStart;
                String text = st.lines.toString();
                String time = st.linesTime;
                clearLines(st);
                sink.failed(Failure.inFlight(s0, safe(end), st.name, time, text));
            }
        }
        sink.failed(Failure.inFlight(start, safe(end), null, null, raw));
    }

    private Cursor safe(Cursor end) {
        return Cursor.min(end, earliestPending());
    }

    /**
     * Appends what fits under max_bytes; the rest is dropped and the line flagged truncated. False
     * when the budget has no room for it: the caller cuts the line ({@link #cutPartial}).
     */
    private boolean appendBounded(StreamState st, String log) {
        if (st.partialTruncated) {
            return true;
        }
        int room = settings.maxBytes() - st.partialBytes;
        int bytes = Utf8.length(log);
        String add = log;
        boolean cut = false;
        if (bytes > room) {
            add = Utf8.truncate(log, room);
            bytes = Utf8.length(add);
            cut = true;
        }
        boolean held = st.partialHold.grow(bytes);
        st.partial.append(add);          // refused: still appended, for the moment it takes to send it (the caller cuts)
        st.partialBytes += bytes;
        st.partialTruncated = cut;
        return held;
    }

    /**
     * The partial line held is sent now as it is, up to {@code end}, flagged partial and truncated,
     * and its memory given back (the budget is full and it is the largest holder, or it could not
     * grow). It skips the multiline rule: it is not a line to join.
     */
    private void cutPartial(StreamState st, Cursor end) throws InterruptedException {
        String text = st.partial.toString();
        Cursor start = st.partialStart;
        String time = st.partialTime;
        Map<String, String> attrs = st.partialAttrs;
        clearPartial(st);
        emit(st.name, time, text, start, end, Message.PARTIAL | Message.TRUNCATED, attrs);
    }

    /** Buffers the budget asked to give up (another container needed the room): cut now. Two volatile reads per stream. */
    private void honourCuts() throws InterruptedException {
        honourCuts(out);
        honourCuts(err);
    }

    private void honourCuts(StreamState st) throws InterruptedException {
        if (st.partialHold.cutRequested()) {
            if (st.partial != null) {
                cutPartial(st, st.partialEnd);
                st.partialDropping = true;       // its line goes on: the rest is dropped
            } else {
                st.partialHold.release();
            }
        }
        if (st.linesHold.cutRequested()) {
            if (st.lines != null) {
                st.linesFlags |= Message.TRUNCATED;
                flushLines(st);
            } else {
                st.linesHold.release();
            }
        }
    }

    /** The partial line held is gone (sent, cut or dead-lettered): its memory and its share of the budget given back. */
    private static void clearPartial(StreamState st) {
        st.partialHold.release();
        st.partial = null;
        st.partialBytes = 0;
        st.partialStart = null;
        st.partialEnd = null;
        st.partialAttrs = null;
        st.partialTruncated = false;
    }

    /** The multiline event held is gone (sent or dead-lettered): the same for it. */
    private static void clearLines(StreamState st) {
        st.linesHold.release();
        st.lines = null;
        st.linesBytes = 0;
        st.linesStart = null;
        st.linesEnd = null;
        st.linesAttrs = null;
    }

    /** Gives back every buffer's share of the budget (the tailer ends; what is held is read again at its next start). */
    public void release() {
        for (StreamState st : new StreamState[] {out, err}) {
            st.partialHold.release();
            st.linesHold.release();
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
        return s.length() > maxBytes / 3 && Utf8.length(s) > maxBytes;
    }
}
