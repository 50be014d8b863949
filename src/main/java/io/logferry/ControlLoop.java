package io.logferry;

import io.logferry.config.Config;
import io.logferry.decode.Encoder;
import io.logferry.docker.Discovery;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ChangeFlag;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.StartPosition;
import io.logferry.registry.Registry;
import io.logferry.retry.Backoff;
import io.logferry.selection.DataStreamBudget;
import io.logferry.selection.Selector;
import io.logferry.tail.Tailer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The one owner of the container map. Discovery and the tailers do not touch it: they post what
 * they saw, and one thread ({@code logferry-control}) handles the posts in order.
 * <pre>
 *   logferry-discovery ── present / died / destroyed / listed / connected / disconnected ──┐
 *   tail-&lt;id&gt; threads  ── finished / failed ─────────────────────────────────────────────┤
 *   logferry-registry  ── "the registry entries?" (answered on the loop) ───────────────┤
 *   the supervisor     ── restart (after a backoff) / stable (after {@code stableAfter}) ┤
 *                                                                                       ▼
 *                                                        logferry-control: selection, the map,
 *                                                        tailers made, marked, restarted
 * </pre>
 * <b>Supervision.</b> A tailer that ends on an exception ({@link Tailer.Done#failed}) is made
 * again from its container's last committed cursor after a {@link Backoff} wait (1 s doubling to
 * 30 s, with jitter; the count of failures in a row sets it), counted in
 * {@code logferry_tailer_restarts_total{container}}, and its container is reported by
 * {@link #degraded()} until the new tailer has run {@code stableAfter} without failing or has read
 * to its end. What it had read and not yet had acknowledged is read again; the documents'
 * {@code _id}s absorb the overlap. An {@link Error} in a tailer is not caught at all: it reaches
 * the process's uncaught exception handler, which ends the process; an exception caused by a
 * {@link VirtualMachineError} is handed to that handler too, and not restarted.
 *
 * <p>Thread-safety: every field below the constructor's is touched only by the loop's thread,
 * except the volatile snapshots {@link #active()}, {@link #dockerProblem()} and
 * {@link #degraded()}, which the loop publishes and any thread reads. The public methods only
 * post; {@link #ask} waits for an answer computed on the loop.
 */
final class ControlLoop implements Discovery.Listener, Tailer.Done, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlLoop.class);
    /** How long a restarted tailer must run without failing for its container to count as recovered. */
    static final Duration STABLE_AFTER = Duration.ofMinutes(1);
    static final Backoff RESTARTS = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

    /** Runs the loop's work in the order it was posted: on its own thread in the agent, by hand in tests. */
    interface Runner extends AutoCloseable {
        void execute(Runnable task);

        void schedule(long delayMillis, Runnable task);

        @Override
        void close();
    }

    /** Makes and starts tailers: the agent's make file and API tailers on virtual threads; tests make fakes. */
    interface Tailers {
        Tailer create(ContainerInfo c, ContainerSettings s, boolean api, Registry.Entry resume, AckTracker tracker,
                      String hostName, Tailer.Done done);

        /** The encoder of a renamed container's documents. */
        Encoder encoder(ContainerInfo c, ContainerSettings s, boolean api, String hostName);

        void start(Tailer tailer, ContainerSettings s);

        /** The containers with bytes in the spool, as they were when spooled (read once, at the first listing). */
        default Map<String, ContainerInfo> spooled() {
            return Map.of();
        }

        /** A removed container is forgotten (everything of it acknowledged): its spooled bytes go too. */
        default void forget(String containerId) {
        }

        /** Every container id with a segment in the spool, its description readable or not. */
        default Set<String> spooledIds() {
            return Set.of();
        }

        /** The container's spooled bytes will never be shipped ({@code why}): counted, reported and deleted. */
        default void discardSpooled(String containerId, String why) {
        }
    }

    /** One container the agent reads or has read and not yet forgotten. Loop thread only. */
    private static final class Tracked {
        final String id;
        final AckTracker tracker;
        String path = "";
        boolean removed;
        /** What was last told to its tailer, so that a restarted one starts from there. */
        boolean stopped;
        ContainerInfo info;
        ContainerSettings settings;
        boolean api;
        /** The running tailer, or null. */
        Tailer tailer;
        String gaugeName;
        /** What the running tailer failed on, between its {@code failed} and its {@code finished}. */
        Exception ended;
        /** Failures in a row since the last recovery; what failed last while degraded, else null. */
        int failures;
        String failure;
        boolean restartPending;
        /** The registry's entry this container was resumed with (null: none). */
        Registry.Entry loaded;

        Tracked(String id, AckTracker tracker) {
            this.id = id;
            this.tracker = tracker;
        }
    }

    private final Config config;
    private final Selector selector;
    private final DataStreamBudget dataStreams;
    private final Metrics metrics;
    private final Tailers tailers;
    private final Runner runner;
    private final Backoff backoff;
    private final long stableAfterMillis;

    private final Map<String, Registry.Entry> unclaimed;
    private final Map<String, Tracked> tracked = new HashMap<>();
    /** Raised by the containers' trackers when a cursor or a file read changes (any thread): the registry flusher looks. */
    private final ChangeFlag registryChanged = new ChangeFlag();
    private final Set<String> reported = new HashSet<>();
    private final Map<String, String> failing = new TreeMap<>();
    private String hostName = "";
    private boolean spoolClaimed;
    /** Containers gone before a crash whose bytes are in the spool: read from it, whatever docker.read_mode says. */
    private final Set<String> fromSpool = new HashSet<>();
    private boolean closing;
    private int running;

    private volatile int active;
    private volatile String dockerProblem = "not connected to Docker yet";
    private volatile String degraded;

    /**
     * @param unclaimed the registry's entries as loaded: each is claimed by its container when
     *                  discovery reports it, and dropped when the list shows it gone
     */
    ControlLoop(Config config, Selector selector, DataStreamBudget dataStreams, Metrics metrics, Map<String, Registry.Entry> unclaimed,
                Tailers tailers, Runner runner, Backoff backoff, Duration stableAfter) {
        this.config = config;
        this.selector = selector;
        this.dataStreams = dataStreams;
        this.metrics = metrics;
        this.unclaimed = new HashMap<>(unclaimed);
        this.tailers = tailers;
        this.runner = runner;
        this.backoff = backoff;
        this.stableAfterMillis = stableAfter.toMillis();
    }

    // ---- what any thread may call: posts, and the published snapshots ----

    @Override
    public void connected(String name) {
        runner.execute(() -> {
            hostName = name;
            dockerProblem = null;
        });
    }

    @Override
    public void disconnected(String reason) {
        runner.execute(() -> dockerProblem = reason);
    }

    @Override
    public void present(ContainerInfo c, boolean fromList) {
        runner.execute(() -> onPresent(c, fromList));
    }

    @Override
    public void died(String id) {
        runner.execute(() -> onDied(id));
    }

    @Override
    public void destroyed(String id) {
        runner.execute(() -> onDestroyed(id));
    }

    @Override
    public void listed(Set<String> ids) {
        Set<String> copy = Set.copyOf(ids);
        runner.execute(() -> onListed(copy));
    }

    @Override
    public void failed(Tailer tailer, Exception failure) {
        runner.execute(() -> onFailed(tailer, failure));
    }

    @Override
    public void finished(Tailer tailer) {
        runner.execute(() -> onFinished(tailer));
    }

    /** Containers being tailed now. */
    int active() {
        return active;
    }

    /** Null while discovery is connected to Docker, else why not. */
    String dockerProblem() {
        return dockerProblem;
    }

    /** Null while every tailer runs, else the containers whose tailer failed and is (being) restarted, and why. */
    String degraded() {
        return degraded;
    }

    /** The answer to {@code question}, computed on the loop, within {@code timeout}. */
    <T> T ask(Supplier<T> question, Duration timeout) throws InterruptedException, TimeoutException {
        CompletableFuture<T> answer = new CompletableFuture<>();
        runner.execute(() -> {
            try {
                answer.complete(question.get());
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
                throw e;
            }
        });
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("control loop: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** The agent stops: no more tailers are made or restarted, and the running ones leave at once. Waits for the loop. */
    void shutdownTailers(Duration timeout) throws InterruptedException, TimeoutException {
        ask(() -> {
            stopTailers();
            return null;
        }, timeout);
    }

    /** {@link #shutdownTailers} on the loop's thread. */
    void stopTailers() {
        closing = true;
        for (Tracked t : tracked.values()) {
            if (t.tailer != null) {
                t.tailer.shutdown();
            }
        }
    }

    /** Stops the loop's thread; posts after this are dropped. */
    @Override
    public void close() {
        runner.close();
    }

    // ---- the loop ----

    private void onPresent(ContainerInfo c, boolean fromList) {
        Tracked t = tracked.get(c.id());
        if (t != null && (t.tailer != null || t.restartPending)) {
            update(t, c, fromList);
            return;
        }
        Selector.Decision d = dataStreams.apply(selector.decide(c));
        boolean first = reported.add(c.id());
        if (first) {
            report(c, d);
        }
        if (!d.selected()) {
            if (first) {
                log.info("container {} not shipped: {}", c.describe(), d.reason());
            }
            return;
        }
        boolean api = !fromSpool.contains(c.id()) && readsThroughApi(c);   // only a file tailer reads the spool
        if (!api && !c.logDriver().equals("json-file")) {
            if (first) {
                log.warn("container {} uses the log driver '{}'; docker.read_mode file reads only json-file (use api or auto)",
                        c.describe(), c.logDriver());
            }
            return;
        }
        if (t == null) {
            Registry.Entry e = unclaimed.remove(c.id());
            if (e == null && !c.running() && fromList && d.settings().orElseThrow().startPosition() == StartPosition.END) {
                return;
            }
            t = new Tracked(c.id(), new AckTracker(c.id(), e == null ? null : new Cursor(0, e.fileId(), e.offset()), registryChanged));
            t.loaded = e;
            tracked.put(c.id(), t);
        }
        t.info = c;
        t.settings = d.settings().orElseThrow();
        t.api = api;
        t.stopped = !c.running();
        t.removed = false;
        Registry.Entry resume = startTailer(t);
        if (first) {
            log.info("container {} shipped to {} ({}, {})", c.describe(), String.join(" and ", t.settings.dataStreams()), resume == null ? "new" : "resuming",
                    api ? "Docker logs API" : "json-file");
        }
    }

    /** A container with a tailer (running, or to be restarted) is reported again: it runs, stopped, or was renamed. */
    private void update(Tracked t, ContainerInfo c, boolean fromList) {
        if (c.running()) {
            t.stopped = false;
            if (t.tailer != null) {
                t.tailer.markRunning();
            }
        } else if (fromList) {
            t.stopped = true;                 // a die missed while Docker was unreachable
            if (t.tailer != null) {
                t.tailer.markStopped();
            }
        }
        if (!t.info.name().equals(c.name()) && !c.logPath().isEmpty()) {
            Selector.Decision d = dataStreams.apply(selector.decide(c));
            d.settings().ifPresent(s -> {
                if (t.tailer != null) {
                    t.tailer.rename(c, tailers.encoder(c, s, t.api, hostName));
                }
                t.info = c;
            });
        }
    }

    private void report(ContainerInfo c, Selector.Decision d) {
        for (Selector.Refusal r : d.refusals()) {
            log.warn("container {}: {}", c.describe(), r.message());
            metrics.counter(Metric.LABEL_WARNINGS).increment();
            metrics.counter(Metric.LABEL_REFUSALS, "reason", r.reason()).increment();
        }
        if (d.labelsCut() > 0) {
            metrics.counter(Metric.CONTAINER_LABELS_CUT)
                    .add(d.labelsCut());
        }
    }

    private boolean readsThroughApi(ContainerInfo c) {
        Path containers = Path.of(config.docker().containersPath());
        return switch (config.docker().readMode()) {
            case API -> true;
            case FILE -> false;
            // the directory may be 0710 (group may enter, not list) and its files still readable
            case AUTO -> !c.logDriver().equals("json-file") || !Files.isDirectory(containers)
                    || !(Files.isExecutable(containers) || Files.isReadable(containers));
        };
    }

    /** Makes and starts the container's tailer from its last committed cursor; says where it resumes (null: per start_position). */
    private Registry.Entry startTailer(Tracked t) {
        Registry.Entry resume = entryOf(t, "");
        Tailer tailer = tailers.create(t.info, t.settings, t.api, resume, t.tracker, hostName, this);
        if (t.removed) {
            tailer.markRemoved();
        } else if (t.stopped && t.info.running()) {
            tailer.markStopped();             // died while its restart waited (a tailer made for a stopped container knows)
        }
        t.path = tailer.source();
        t.tailer = tailer;
        t.gaugeName = t.info.name();
        active = ++running;
        metrics.gauge(Metric.BYTES_BEHIND, tailer::behind, "container", t.gaugeName);
        tailers.start(tailer, t.settings);
        return resume;
    }

    private void onDied(String id) {
        Tracked t = tracked.get(id);
        if (t != null) {
            t.stopped = true;
            if (t.tailer != null) {
                t.tailer.markStopped();
            }
        }
    }

    private void onDestroyed(String id) {
        Tracked t = tracked.get(id);
        if (t != null) {
            markRemoved(t);
        }
        unclaimed.remove(id);
        reported.remove(id);
    }

    private static void markRemoved(Tracked t) {
        t.removed = true;
        t.stopped = true;
        if (t.tailer != null) {
            t.tailer.markRemoved();
        }
    }

    private void onListed(Set<String> ids) {
        if (!spoolClaimed) {
            spoolClaimed = true;
            resumeSpooled(ids);
        }
        for (Tracked t : tracked.values()) {
            if (!t.removed && !ids.contains(t.id)) {
                markRemoved(t);              // removed while Docker was unreachable
            }
        }
        unclaimed.keySet().removeIf(id -> {
            if (!ids.contains(id)) {
                log.info("registry entry of container {} dropped: the container no longer exists", id.substring(0, Math.min(12, id.length())));
                return true;
            }
            return false;
        });
    }

    /**
     * At the first listing: a container whose bytes are in the spool and that no longer exists
     * (removed before a crash) gets a tailer from its spooled description, marked removed: it
     * ships the spool from the registry's cursor, and is forgotten once all is acknowledged.
     */
    private void resumeSpooled(Set<String> ids) {
        Map<String, ContainerInfo> spooled = tailers.spooled();
        for (Map.Entry<String, ContainerInfo> e : spooled.entrySet()) {
            if (ids.contains(e.getKey()) || tracked.containsKey(e.getKey())) {
                continue;                    // its tailer reads the spool before its files
            }
            fromSpool.add(e.getKey());
            onPresent(e.getValue(), false);
            fromSpool.remove(e.getKey());
            Tracked t = tracked.get(e.getKey());
            if (t == null) {
                continue;                    // discarded below
            }
            markRemoved(t);
        }
        sweepSpool(ids, spooled);
    }

    /**
     * At the first listing: spooled bytes that no tailer will read are counted, reported
     * ({@code LOST:}) and deleted, so that they neither hold the spool's space forever nor go
     * silently: a container this configuration does not select (gone or present), one read
     * through the Docker logs API now (only a file tailer reads the spool), one whose spooled
     * description is unreadable or names another container and that no longer exists.
     */
    private void sweepSpool(Set<String> ids, Map<String, ContainerInfo> spooled) {
        for (String id : tailers.spooledIds()) {
            Tracked t = tracked.get(id);
            if (t != null && !t.api) {
                continue;                    // its file tailer reads the spool before its files
            }
            String why;
            if (t != null) {
                why = "the container is read through the Docker logs API now, which does not read the spool";
            } else if (ids.contains(id) || spooled.containsKey(id)) {
                why = "this configuration does not ship the container" + (ids.contains(id) ? "" : " (it is gone)");
            } else {
                why = "its spooled description is unreadable or names another container, and the container is gone";
            }
            tailers.discardSpooled(id, why);
        }
    }

    /** Takes the tailer off its container; false when it is not (or no longer) the container's running tailer. */
    private Tracked detach(Tailer tailer) {
        Tracked t = tracked.get(tailer.container().id());
        if (t == null || t.tailer != tailer) {
            return null;
        }
        t.tailer = null;
        active = --running;
        metrics.removeGauge(Metric.BYTES_BEHIND, "container", t.gaugeName);
        return t;
    }

    /** Remembered until the tailer's {@link #finished}, which comes after it has let go of its files. */
    private void onFailed(Tailer tailer, Exception failure) {
        Tracked t = tracked.get(tailer.container().id());
        if (t != null && t.tailer == tailer) {
            t.ended = failure;
        }
    }

    private void onFinished(Tailer tailer) {
        Tracked t = detach(tailer);
        if (t == null) {
            return;
        }
        Exception failure = t.ended;
        t.ended = null;
        if (failure != null) {
            supervise(t, failure);
        } else if (t.failure != null) {
            recovered(t, "it read its log to the end");
        }
    }

    private void supervise(Tracked t, Exception failure) {
        if (closing) {
            return;
        }
        if (causedByVirtualMachineError(failure)) {
            // as if it had escaped the tailer's thread: the process's handler ends the process
            Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), failure);
            return;
        }
        t.failures++;
        t.failure = failure.getClass().getSimpleName() + ": " + failure.getMessage();
        t.restartPending = true;
        metrics.counter(Metric.TAILER_RESTARTS, "container", t.info.name()).increment();
        long wait = backoff.millis(t.failures);
        failing.put(t.id, "container " + t.info.describe() + ": tailer failed " + t.failures
                + (t.failures == 1 ? " time" : " times in a row") + " (" + t.failure + "), restarting");
        publishDegraded();
        log.warn("tailer of {} failed ({} in a row: {}); restarting it in {} ms from its last committed position",
                t.info.describe(), t.failures, t.failure, wait);
        runner.schedule(wait, () -> restart(t));
    }

    private static boolean causedByVirtualMachineError(Throwable failure) {
        Throwable c = failure;
        for (int i = 0; c != null && i < 16; i++, c = c.getCause()) {
            if (c instanceof VirtualMachineError) {
                return true;
            }
        }
        return false;
    }

    private void restart(Tracked t) {
        if (closing || tracked.get(t.id) != t || !t.restartPending) {
            return;
        }
        t.restartPending = false;
        startTailer(t);
        Tailer started = t.tailer;
        log.info("tailer of {} started again ({} failures in a row)", t.info.describe(), t.failures);
        runner.schedule(stableAfterMillis, () -> {
            if (t.tailer == started && t.failure != null) {
                recovered(t, "its new tailer ran " + stableAfterMillis / 1000 + " s without failing");
            }
        });
    }

    private void recovered(Tracked t, String how) {
        log.info("tailer of {} recovered: {}", t.info.describe(), how);
        t.failures = 0;
        t.failure = null;
        failing.remove(t.id);
        publishDegraded();
    }

    private void publishDegraded() {
        if (failing.isEmpty()) {
            degraded = null;
            return;
        }
        StringJoiner j = new StringJoiner("; ");
        failing.values().forEach(j::add);
        degraded = j.toString();
    }

    /**
     * A forgotten container's metric series (labelled with its name) go with it, unless another container
     * tracked now has its name (Docker lets a name be taken again once the container is removed).
     */
    private void forgetSeries(Tracked gone) {
        String name = gone.info == null ? null : gone.info.name();
        if (name == null) {
            return;
        }
        for (Tracked t : tracked.values()) {
            if (t != gone && t.info != null && name.equals(t.info.name())) {
                return;
            }
        }
        metrics.forget("container", name);
    }

    /**
     * Raised whenever a tracked container's committed cursor or files read change (any thread may
     * look): when it is down, {@link #registryEntries} would answer what it answered last time, but
     * for what only the loop changes (entries claimed or dropped, removed containers forgotten).
     */
    ChangeFlag registryChanged() {
        return registryChanged;
    }

    /**
     * What the registry file should hold now: the unclaimed entries and every tracked container's
     * committed cursor. Forgets a removed container once nothing of it is read or in flight any
     * more. Loop thread only: other threads {@link #ask} for it.
     */
    Map<String, Registry.Entry> registryEntries() {
        Map<String, Registry.Entry> entries = new HashMap<>(unclaimed);
        for (Iterator<Tracked> it = tracked.values().iterator(); it.hasNext(); ) {
            Tracked t = it.next();
            if (t.removed && t.tailer == null && !t.restartPending && t.tracker.outstanding() == 0) {
                it.remove();
                tailers.forget(t.id);
                forgetSeries(t);
                if (failing.remove(t.id) != null) {
                    publishDegraded();
                }
                continue;
            }
            Registry.Entry e = entryOf(t, t.path);
            if (e != null) {
                entries.put(t.id, e);
            }
        }
        return entries;
    }

    /** The test hook's task ({@code Agent.STALL_HOOK}): the loop's thread parks for good, as a deadlock would. */
    static void stallForever() {
        while (true) {
            LockSupport.park();
        }
    }

    /**
     * A container's registry entry: its committed cursor and the files read after it that are not
     * all acknowledged, recorded from the first read (before anything is acknowledged the entry
     * starts where the first file was read from), so that a restart can tell which of them were
     * lost meanwhile. Before this tailer read anything, the chain the entry was loaded with.
     */
    private static Registry.Entry entryOf(Tracked t, String path) {
        Cursor c = t.tracker.committed();
        List<AckTracker.Unacknowledged> files = t.tracker.unacknowledgedFiles();
        List<Registry.Read> read = new ArrayList<>();
        Map<String, Long> startedAt = laterStarts(t.loaded);
        for (AckTracker.Unacknowledged u : files) {
            // a later file the loaded chain started past 0 (logferry migrate filebeat) was read from there: its start stays
            long from = u.from() == 0 ? startedAt.getOrDefault(u.fileId(), 0L) : u.from();
            read.add(new Registry.Read(u.fileId(), from, u.to()));
        }
        if (c == null && !read.isEmpty()) {
            c = new Cursor(0, read.get(0).fileId(), read.get(0).from());
        }
        if (c == null || c.fileId().equals("unknown")) {
            return null;
        }
        if (read.isEmpty() && t.loaded != null && t.loaded.fileId().equals(c.fileId()) && t.loaded.offset() == c.offset()) {
            read = t.loaded.read();          // nothing read since the start: what the last run had read stays to be found
        }
        return new Registry.Entry(c.fileId(), c.offset(), path, read);
    }

    /** The files after the committed one that the loaded chain starts past their first byte (by fingerprint). */
    private static Map<String, Long> laterStarts(Registry.Entry loaded) {
        if (loaded == null || loaded.read().isEmpty()) {
            return Map.of();
        }
        Map<String, Long> out = new HashMap<>();
        for (Registry.Read r : loaded.read()) {
            if (r.from() > 0 && !r.fileId().equals(loaded.fileId())) {
                out.put(r.fileId(), r.from());
            }
        }
        return out;
    }

    /** The agent's runner: one daemon thread, {@code logferry-control}, and a delay queue. */
    static final class ThreadRunner implements Runner {
        private final ScheduledThreadPoolExecutor executor;

        ThreadRunner() {
            executor = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "logferry-control");
                t.setDaemon(true);
                return t;
            });
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            executor.setRemoveOnCancelPolicy(true);
        }

        @Override
        public void execute(Runnable task) {
            schedule(0, task);
        }

        /** Whether a task is due now: work waits for the loop (for {@code /health}'s liveness; any thread). */
        boolean due() {
            for (Runnable r : executor.getQueue()) {
                if (r instanceof Delayed d && d.getDelay(TimeUnit.NANOSECONDS) <= 0) {
                    return true;
                }
            }
            return false;
        }

        /** Tasks the loop has run: grows while it turns (any thread). */
        long turns() {
            return executor.getCompletedTaskCount();
        }

        @Override
        public void schedule(long delayMillis, Runnable task) {
            try {
                executor.schedule(() -> guarded(task), delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                log.debug("control loop stopped: a late report is dropped");
            }
        }

        /** The executor would keep what a task throws in a future nobody reads: log it, and hand an Error on. */
        private static void guarded(Runnable task) {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("control loop: a report could not be handled; the loop goes on", e);
            } catch (Error e) {
                Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
                throw e;
            }
        }

        @Override
        public void close() {
            executor.shutdown();
            try {
                if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                    log.warn("control loop: still busy after 5 s; leaving it");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
