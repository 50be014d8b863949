package io.logferry.tail;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import io.logferry.decode.DockerEntry;
import io.logferry.decode.Encoder;
import io.logferry.decode.MessageAssembler;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.BufferBudget;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.StartPosition;
import io.logferry.pipeline.EventQueue;
import io.logferry.decode.TestFaults;
import io.logferry.registry.InFlight;
import io.logferry.registry.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads one container's log through the Docker logs API ({@code docker.read_mode: api}), for
 * hosts where the log files are not mounted or the container uses another log driver
 * ({@code local}, {@code journald}). The entries and documents are those of the file mode. An
 * entry's position is its stream and its timestamp in nanoseconds, from which its {@code _id} is
 * derived. Docker stamps stdout and stderr separately, so timestamps are ordered per stream, not
 * across them: a resume therefore asks Docker for the entries from a margin before the last
 * acknowledged one and lets the {@code _id} absorb the overlap (409 on create): no gap, and no
 * duplicate in the index.
 *
 * <p>Threads: docker-java's stream thread only hands frames over, through a queue of
 * {@value #HANDOFF} frames (it blocks while that is full: backpressure reaches Docker); the
 * tailer's own thread ({@code api-<shortid>}) alone owns the line buffers, the assembler and the
 * {@link Publisher}, and blocks in the event queue without holding any lock. The control loop's thread
 * calls the {@code mark} methods, {@link #rename} and {@link #shutdown}.
 */
public final class ApiTailer implements Tailer {
    private static final Logger log = LoggerFactory.getLogger(ApiTailer.class);
    public static final String FILE_ID = "api";
    /** How far before the last acknowledged entry a resume starts reading again. */
    static final long RESUME_MARGIN_NANOS = 10_000_000_000L;
    private static final DateTimeFormatter NANOS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'").withZone(ZoneOffset.UTC);
    private static final long STOP_GRACE_MS = 1000;
    /** More than Docker's timestamp and its space ({@code 2024-05-01T10:00:00.123456789Z }, 31 bytes). */
    static final int TIMESTAMP_ROOM = 64;
    /** Frames handed from docker-java's thread to the tailer's thread and not taken yet, at most. */
    static final int HANDOFF = 8;
    private static final long IDLE_FLUSH_NANOS = 250_000_000L;

    /** The end of one stream, in the hand-off queue after its last frame. */
    private record End(Throwable error) { }

    private final LogStream logs;
    private final BlockingQueue<Object> handoff = new ArrayBlockingQueue<>(HANDOFF);
    private final ContainerSettings settings;
    private final AckTracker tracker;
    private final Done done;
    private final MessageAssembler assembler;
    private final Publisher publisher;
    private final LongAdder malformed;
    private volatile ContainerInfo container;
    private volatile boolean stopped;
    private volatile boolean shutdown;
    /** Set when the tailer's thread leaves: the stream's thread stops handing over. */
    private volatile boolean finished;
    private volatile Closeable stream;
    /** Entries before this (epoch nanoseconds) were acknowledged already. */
    private long from;
    /** Per stream (0 stdout, 1 stderr): the last position given, and the last timestamp read. */
    private final long[] last = {Long.MIN_VALUE, Long.MIN_VALUE};
    private final long[] lastRaw = {Long.MIN_VALUE, Long.MIN_VALUE};
    /**
     * Per stream, the line whose newline has not arrived: at most max_bytes plus room for
     * Docker's timestamp, so that a cut line's text is still longer than max_bytes and the
     * assembler truncates it there and flags it {@code truncated}.
     */
    private final LineBuffer pendingOut;
    private final LineBuffer pendingErr;
    private final LongAdder dropped;
    private long overlongLines;
    private InFlight.Slot inFlight;
    private io.logferry.decode.LineMark mark = io.logferry.decode.LineMark.NONE;
    /** The line in flight when the agent last exited (its stream's file id and position), or null. */
    private InFlight.Line poison;

    public ApiTailer(DockerClient docker, ContainerInfo container, ContainerSettings settings, Registry.Entry resume,
                     AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done) {
        this(LogStream.of(docker), container, settings, resume, tracker, queue, builder, metrics, done);
    }

    ApiTailer(LogStream logs, ContainerInfo container, ContainerSettings settings, Registry.Entry resume,
              AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done) {
        this(logs, container, settings, resume, tracker, queue, builder, metrics, done, BufferBudget.unbounded());
    }

    /** @param budget {@code limits.buffers_max_bytes}: the agent's one budget for partial lines and multiline events */
    public ApiTailer(DockerClient docker, ContainerInfo container, ContainerSettings settings, Registry.Entry resume,
                     AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done, BufferBudget budget) {
        this(LogStream.of(docker), container, settings, resume, tracker, queue, builder, metrics, done, budget);
    }

    ApiTailer(LogStream logs, ContainerInfo container, ContainerSettings settings, Registry.Entry resume,
              AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, Done done, BufferBudget budget) {
        this.logs = logs;
        this.container = container;
        this.settings = settings;
        this.tracker = tracker;
        this.done = done;
        this.malformed = metrics.counter(Metric.LINES_MALFORMED);
        this.dropped = metrics.counter(Metric.API_BYTES_DROPPED);
        int cap = (int) Math.min(Integer.MAX_VALUE - 64, (long) Math.max(settings.maxBytes(), 0) + TIMESTAMP_ROOM);
        this.pendingOut = new LineBuffer(cap, budget.holder());
        this.pendingErr = new LineBuffer(cap, budget.holder());
        if (resume != null && resume.fileId().startsWith(FILE_ID)) {
            from = resume.offset() - RESUME_MARGIN_NANOS;
        } else if (settings.startPosition() == StartPosition.END) {
            Instant now = Instant.now();
            from = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
        this.publisher = new Publisher(tracker, queue, builder, metrics, false, settings.weight(), RateLimit.of(settings.maxRate()));
        this.assembler = new MessageAssembler(settings, publisher, System::nanoTime, budget);
        if (!container.running()) {
            stopped = true;
        }
    }

    @Override
    public ContainerInfo container() {
        return container;
    }

    @Override
    public AckTracker tracker() {
        return tracker;
    }

    @Override
    public String source() {
        return "docker logs API";
    }

    @Override
    public void rename(ContainerInfo renamed, Encoder newBuilder) {
        container = renamed;
        publisher.builder(newBuilder);
    }

    @Override
    public void markStopped() {
        stopped = true;
    }

    @Override
    public void markRunning() {
        stopped = false;
    }

    @Override
    public void markRemoved() {
        stopped = true;
    }

    @Override
    public void shutdown() {
        shutdown = true;
        closeStream();
    }

    private void closeStream() {
        Closeable s = stream;
        if (s != null) {
            try {
                s.close();
            } catch (IOException | RuntimeException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void inFlight(InFlight.Slot slot, InFlight.Line poison) {
        inFlight = slot;
        if (slot != null) {
            mark = slot;
            publisher.mark(slot);
        }
        this.poison = poison;
    }

    @Override
    public void run() {
        Thread.currentThread().setName("api-" + container.shortId());
        boolean fatal = true;
        try {
            while (!shutdown) {
                boolean follow = !stopped;
                handoff.clear();
                stream = logs.open(container.id(), follow,
                        (int) (Math.max(from, Math.min(lastRaw[0], lastRaw[1])) / 1_000_000_000L), sink);
                End end = pump();
                if (end == null) {
                    fatal = false;
                    return;                      // shutdown
                }
                if (end.error() != null) {
                    throw end.error() instanceof RuntimeException r ? r : new RuntimeException(end.error());
                }
                assembler.flushIdle();
                if (!follow) {
                    assembler.flushAll();
                    log.info("{}: read its log through the Docker API to the end; tailer done", container.describe());
                    fatal = false;
                    return;
                }
                // the stream ends when the container stops: read once more without follow, then finish
                Thread.sleep(STOP_GRACE_MS);
                stopped = stopped || !logs.running(container.id());
            }
            fatal = false;
        } catch (InterruptedException e) {
            fatal = false;
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            fatal = false;
            log.error("API tailer of {} failed; the supervisor starts it again from its last committed position", container.describe(), e);
            done.failed(this, e);
        } finally {
            if (inFlight != null && !fatal) {
                inFlight.release();     // after an Error its line stays marked: the process is ending on it
            }
            assembler.release();
            pendingOut.release();
            pendingErr.release();
            finished = true;
            closeStream();
            done.finished(this);
        }
    }

    /**
     * The tailer's thread: takes the stream's frames until its end (returned), or null on
     * shutdown; a quiet container's last multiline event goes after its timeout, so the
     * assembler's idle flush runs at least every 250 ms.
     */
    private End pump() throws InterruptedException {
        long lastIdleFlush = System.nanoTime();
        while (!shutdown) {
            Object o = handoff.poll(IDLE_FLUSH_NANOS, TimeUnit.NANOSECONDS);
            if (o instanceof End end) {
                return end;
            }
            if (o != null) {
                frame((Frame) o);
            }
            long now = System.nanoTime();
            if (o == null || now - lastIdleFlush >= IDLE_FLUSH_NANOS) {
                assembler.flushIdle();
                lastIdleFlush = now;
            }
        }
        return null;
    }

    /** docker-java's thread: hands over, and never touches the tailer's state. */
    private final LogStream.Sink sink = new LogStream.Sink() {
        @Override
        public void frame(Frame f) throws InterruptedException {
            hand(f);
        }

        @Override
        public void ended(Throwable error) {
            try {
                hand(new End(error));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void hand(Object o) throws InterruptedException {
            while (!handoff.offer(o, 250, TimeUnit.MILLISECONDS)) {
                if (shutdown || finished) {
                    return;                      // nobody takes it any more
                }
            }
        }
    };

    /** Frames are pieces of each stream's bytes: lines are split across them, and one frame may hold several. The tailer's thread. */
    void frame(Frame f) throws InterruptedException {
        boolean err = f.getStreamType() == StreamType.STDERR;
        LineBuffer pending = err ? pendingErr : pendingOut;
        byte[] p = f.getPayload();
        cutIfAsked(pendingOut, false);
        cutIfAsked(pendingErr, true);
        int lineStart = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] != '\n') {
                continue;
            }
            if (pending.dropping()) {
                // the end of a line handed on cut for the budget
                hold(pending, p, lineStart, i - lineStart);
                pending.endDropping();
            } else if (!pending.isEmpty() || i - lineStart > pending.cap()) {
                // the line's start came in an earlier frame, or it is too long: through the bounded buffer
                hold(pending, p, lineStart, i - lineStart);
                boolean cut = pending.overflowed() || pending.cutByBudget();
                if (pending.cutByBudget()) {
                    line(pending.take(), err, true);
                } else {
                    line(pending.take(), err);
                }
                if (cut && (overlongLines++ < 10 || overlongLines % 1000 == 0)) {
                    log.warn("{}: a line read through the Docker logs API was longer than max_bytes ({}); the bytes beyond were"
                            + " dropped and the message flagged truncated ({} such lines, {} bytes dropped so far)",
                            container.describe(), settings.maxBytes(), overlongLines, pendingOut.dropped() + pendingErr.dropped());
                }
            } else {
                line(new String(p, lineStart, i - lineStart, StandardCharsets.UTF_8), err);
            }
            lineStart = i + 1;
        }
        if (lineStart < p.length) {
            hold(pending, p, lineStart, p.length - lineStart);
            if (pending.cutByBudget()) {
                line(pending.takeCut(), err, true);       // the budget refused it: the line goes now, its rest is dropped
            }
        }
    }

    /** The budget asked this buffer to give up its unterminated line (another needed the room): it goes now, cut. */
    private void cutIfAsked(LineBuffer pending, boolean err) throws InterruptedException {
        if (pending.cutRequested()) {
            if (pending.held() > 0 && !pending.dropping()) {
                line(pending.takeCut(), err, true);
            } else {
                pending.release();
            }
        }
    }

    private void hold(LineBuffer pending, byte[] p, int off, int len) {
        int left = pending.append(p, off, len);
        if (left > 0) {
            dropped.add(left);
        }
    }

    /** Bytes held for unterminated lines (both streams): at most 2 × (max_bytes + {@value #TIMESTAMP_ROOM}). The tailer's thread. */
    int heldBytes() {
        return pendingOut.held() + pendingErr.held();
    }

    private void line(String text, boolean err) throws InterruptedException {
        line(text, err, false);
    }

    /** @param cut the line's end was dropped before it reached the agent (the budget): flagged truncated */
    private void line(String text, boolean err, boolean cut) throws InterruptedException {
        int sp = text.indexOf(' ');
        long nanos;
        Instant t;
        try {
            t = Instant.parse(sp < 0 ? text : text.substring(0, sp));
            nanos = t.getEpochSecond() * 1_000_000_000L + t.getNano();
        } catch (DateTimeParseException e) {
            malformed.increment();
            log.warn("{}: a Docker API log line without a timestamp was skipped", container.describe());
            return;
        }
        int s = err ? 1 : 0;
        if (nanos < from || nanos <= lastRaw[s]) {
            return;                    // before the resume point, or already read in this run
        }
        lastRaw[s] = nanos;
        if (nanos <= last[s]) {
            nanos = last[s] + 1;       // keep positions strictly increasing within the stream
        }
        last[s] = nanos;
        String message = sp < 0 ? "\n" : text.substring(sp + 1) + "\n";
        String fileId = err ? FILE_ID + "-stderr" : FILE_ID + "-stdout";
        if (poison != null && poison.offset() == nanos && poison.fileId().equals(fileId)) {
            poison = null;
            assembler.inFlight(text, new Cursor(1, fileId, nanos), new Cursor(1, fileId, nanos + 1));
            return;
        }
        mark.begin(fileId, nanos);
        if (TestFaults.ON) {
            TestFaults.onLine(text);
        }
        try {
            DockerEntry entry = new DockerEntry(message, err ? "stderr" : "stdout", NANOS.format(t), nanos, nanos + 1);
            if (cut) {
                assembler.acceptCut(entry, 1, fileId);
            } else {
                assembler.accept(entry, 1, fileId);
            }
        } catch (RuntimeException | StackOverflowError e) {
            // the line's boundary: whatever its processing or encoding does costs this line only
            assembler.failed(text, new Cursor(1, fileId, nanos), new Cursor(1, fileId, nanos + 1), e);
        }
        mark.end();       // not in a finally: a line that ends the process with an Error stays marked in flight
    }
}
