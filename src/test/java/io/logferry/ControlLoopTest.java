package io.logferry;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.decode.Encoder;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.registry.Registry;
import io.logferry.retry.Backoff;
import io.logferry.selection.DataStreamBudget;
import io.logferry.selection.Selector;
import io.logferry.tail.Tailer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control loop driven as discovery and the tailers drive it, with a runner the test turns by
 * hand (no thread, no waiting: delayed posts are fired when the test says) and fake tailers.
 */
class ControlLoopTest {
    private static final Duration STABLE = Duration.ofSeconds(60);
    private final Metrics metrics = new Metrics();
    private final ManualRunner runner = new ManualRunner();
    private final FakeTailers tailers = new FakeTailers();
    private ControlLoop loop;

    private ControlLoop loop(Map<String, String> env, Map<String, Registry.Entry> registry) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putIfAbsent("LOGFERRY_DOCKER_READ_MODE", "api");
        Config config = new ConfigLoader(all).load(null);
        loop = new ControlLoop(config, new Selector(config, ""), new DataStreamBudget(config), metrics, registry, tailers, runner,
                new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30)), STABLE);
        return loop;
    }

    private ControlLoop loop() throws Exception {
        return loop(Map.of(), Map.of());
    }

    private static ContainerInfo container(String id, String name, boolean running, Map<String, String> labels) {
        return new ContainerInfo(id, name, "busybox", labels, "/logs/" + id, "json-file", running);
    }

    private static ContainerInfo container(String id, boolean running) {
        return container(id, "/" + id, running, Map.of());
    }

    @Test
    void aContainerGoneWithBytesInTheSpoolIsShippedFromItAndForgottenOnceAcknowledged() throws Exception {
        ContainerInfo gone = new ContainerInfo("gone", "gone", "busybox", Map.of(), "/logs/gone", "json-file", false);
        tailers.spooled.put("gone", gone);
        tailers.spooled.put("here", container("here", true));
        loop(Map.of(), Map.of("gone", new Registry.Entry("fp", 120, "/logs/gone"))).connected("host-1");
        loop.present(container("here", true), true);
        loop.listed(Set.of("here"));
        runner.drain();
        assertThat(tailers.made).extracting(t -> t.container().id()).containsExactly("here", "gone");
        FakeTailer t = tailers.made.get(1);
        assertThat(t.resume).as("from the registry's cursor, kept although the container is gone").isEqualTo(new Registry.Entry("fp", 120, ""));
        assertThat(t.marks).contains("removed");
        assertThat(loop.registryEntries()).containsKey("gone");
        t.finish();
        runner.drain();
        assertThat(loop.registryEntries()).doesNotContainKey("gone");
        assertThat(tailers.forgotten).containsExactly("gone");
        loop.listed(Set.of("here"));
        runner.drain();
        assertThat(tailers.made).as("the spool is claimed at the first listing only").hasSize(2);
    }

    @Test
    void spooledBytesNoTailerWillReadAreDiscardedWithAReasonAtTheFirstListing() throws Exception {
        Map<String, String> off = Map.of("logferry.enable", "false");
        tailers.spooled.put("gone-off", container("gone-off", "/gone-off", false, off));
        tailers.spooled.put("here-off", container("here-off", "/here-off", true, off));
        tailers.spooled.put("gone", container("gone", false));
        tailers.spooled.put("here", container("here", true));
        tailers.unreadable.add("broken");
        loop(Map.of("LOGFERRY_DOCKER_READ_MODE", "file"), Map.of()).connected("host-1");
        loop.present(container("here", true), true);
        loop.present(container("here-off", "/here-off", true, off), true);
        loop.listed(Set.of("here", "here-off"));
        runner.drain();
        assertThat(tailers.made).extracting(t -> t.container().id()).as("shipped from the spool").containsExactly("here", "gone");
        assertThat(tailers.discarded).containsOnlyKeys("gone-off", "here-off", "broken");
        assertThat(tailers.discarded.get("gone-off")).contains("does not ship").contains("gone");
        assertThat(tailers.discarded.get("here-off")).contains("does not ship").doesNotContain("gone");
        assertThat(tailers.discarded.get("broken")).contains("unreadable");
        loop.listed(Set.of("here", "here-off"));
        runner.drain();
        assertThat(tailers.discarded).as("swept at the first listing only").hasSize(3);
    }

    @Test
    void aContainerReadThroughTheApiNowHasItsSpooledBytesDiscarded() throws Exception {
        tailers.spooled.put("here", container("here", true));
        loop().connected("host-1");                   // read_mode api
        loop.present(container("here", true), true);
        loop.listed(Set.of("here"));
        runner.drain();
        assertThat(tailers.discarded).containsOnlyKeys("here");
        assertThat(tailers.discarded.get("here")).contains("Docker logs API");
    }

    @Test
    void oneTailerPerShippedContainerMarkedAsDiscoveryReports() throws Exception {
        loop().connected("host-1");
        loop.present(container("a", true), true);
        loop.present(container("off", "/off", true, Map.of("logferry.enable", "false")), true);
        runner.drain();
        assertThat(tailers.made).hasSize(1);
        FakeTailer a = tailers.made.get(0);
        assertThat(a.container().id()).isEqualTo("a");
        assertThat(a.started).isTrue();
        assertThat(a.hostName).isEqualTo("host-1");
        assertThat(loop.active()).isEqualTo(1);
        assertThat(loop.dockerProblem()).isNull();

        loop.present(container("a", true), false);
        loop.died("a");
        loop.present(container("a", false), false);
        loop.present(container("a", false), true);
        loop.present(container("a", "/a-renamed", true, Map.of()), false);
        runner.drain();
        assertThat(tailers.made).as("reports about a container with a tailer make no second one").hasSize(1);
        assertThat(a.marks).containsExactly("running", "stopped", "stopped", "running", "renamed a-renamed");

        loop.disconnected("connection refused");
        runner.drain();
        assertThat(loop.dockerProblem()).isEqualTo("connection refused");
    }

    /**
     * A chain loaded from a registry that {@code logferry migrate filebeat} wrote starts a later file
     * past 0; the entry written while its events are unacknowledged keeps that start, so that a
     * crash then does not read the lines before it (Filebeat's) again.
     */
    @Test
    void aLaterFileTheLoadedChainStartedPastZeroKeepsItsStartInTheEntry() throws Exception {
        Registry.Entry migrated = new Registry.Entry("f1", 100, "/logs/a",
                List.of(new Registry.Read("f1", 100, 500), new Registry.Read("f2", 300, 900)));
        loop(Map.of(), Map.of("a", migrated)).present(container("a", true), true);
        runner.drain();
        io.logferry.model.AckTracker tracker = tailers.made.get(0).tracker();
        tracker.published(new io.logferry.model.LogEvent(tracker, new byte[] {'x', '\n'}, 0, new io.logferry.model.Cursor(1, "f1", 200)));
        tracker.published(new io.logferry.model.LogEvent(tracker, new byte[] {'x', '\n'}, 0, new io.logferry.model.Cursor(2, "f2", 400)));

        Registry.Entry e = loop.registryEntries().get("a");

        assertThat(e.fileId()).isEqualTo("f1");
        assertThat(e.offset()).isEqualTo(100);
        assertThat(e.read()).containsExactly(new Registry.Read("f1", 100, 200), new Registry.Read("f2", 300, 400));
    }

    @Test
    void aContainerStartedAgainAfterItsTailerFinishedGetsANewOneResumingFromTheCommit() throws Exception {
        loop(Map.of(), Map.of("a", new Registry.Entry("f1", 100, "/logs/a"))).present(container("a", true), true);
        runner.drain();
        FakeTailer first = tailers.made.get(0);
        assertThat(first.resume).isEqualTo(new Registry.Entry("f1", 100, ""));
        first.finish();
        runner.drain();
        assertThat(loop.active()).isZero();
        assertThat(runner.later).as("a tailer that read to its end is not restarted").isEmpty();
        loop.present(container("a", true), false);
        runner.drain();
        assertThat(tailers.made).hasSize(2);
        assertThat(tailers.made.get(1).resume).isEqualTo(new Registry.Entry("f1", 100, ""));
        assertThat(tailers.made.get(1).tracker()).isSameAs(first.tracker());
    }

    @Test
    void startPositionEndSkipsAStoppedContainerSeenOnlyInTheList() throws Exception {
        loop(Map.of("LOGFERRY_DEFAULTS_START_POSITION", "end"), Map.of()).present(container("old", false), true);
        loop.present(container("new", false), false);
        runner.drain();
        assertThat(tailers.made).extracting(t -> t.container().id()).containsExactly("new");
        assertThat(tailers.made.get(0).marks).containsExactly("stopped");
    }

    @Test
    void destroyedOrMissingFromTheListIsRemovedAndForgottenOnceEverythingIsAcked() throws Exception {
        loop(Map.of(), Map.of("a", new Registry.Entry("fa", 10, "/logs/a"), "b", new Registry.Entry("fb", 20, "/logs/b"),
                "gone", new Registry.Entry("fg", 30, "/logs/gone")));
        loop.present(container("a", true), true);
        loop.present(container("b", true), true);
        loop.listed(Set.of("a", "b"));
        runner.drain();
        assertThat(loop.registryEntries()).as("the entry of a container that no longer exists is dropped").containsOnlyKeys("a", "b")
                .containsEntry("a", new Registry.Entry("fa", 10, "/logs/a"));

        loop.destroyed("a");
        loop.listed(Set.of());          // b removed while Docker was unreachable
        runner.drain();
        FakeTailer a = tailers.made.get(0);
        FakeTailer b = tailers.made.get(1);
        assertThat(a.marks).containsExactly("removed");
        assertThat(b.marks).containsExactly("removed");
        assertThat(loop.registryEntries()).as("kept while their tailers still read").containsOnlyKeys("a", "b");
        a.finish();
        b.finish();
        runner.drain();
        assertThat(loop.registryEntries()).isEmpty();
        assertThat(loop.active()).isZero();
    }

    @Test
    void aForgottenContainersMetricSeriesGoUnlessItsNameIsTakenAgain() throws Exception {
        loop();
        loop.present(container("a", "/web", true, Map.of()), false);
        loop.present(container("b", "/db", true, Map.of()), false);
        runner.drain();
        metrics.counter(io.logferry.metrics.Metric.LOG_LOSSES, "container", "web").increment();
        metrics.counter(io.logferry.metrics.Metric.LOG_LOSSES, "container", "db").increment();
        loop.destroyed("a");
        loop.destroyed("b");
        runner.drain();
        // a new container takes the name db before the old db is forgotten
        loop.present(container("c", "/db", true, Map.of()), false);
        runner.drain();
        tailers.made.get(0).finish();
        tailers.made.get(1).finish();
        runner.drain();
        loop.registryEntries();          // forgets a and b: removed, their tailers done, nothing in flight
        assertThat(loop.active()).as("c's tailer runs").isEqualTo(1);
        String page = metrics.prometheus();
        assertThat(page).as("web is forgotten: its series go").doesNotContain("container=\"web\"");
        assertThat(page).as("db's name is taken again: its series stay").contains("container=\"db\"");
    }

    @Test
    void aFailedTailerIsRestartedWithBackoffCountedAndShownUntilItRecovers() throws Exception {
        loop(Map.of(), Map.of("a", new Registry.Entry("f1", 100, "/logs/a"))).present(container("a", true), true);
        loop.present(container("b", true), true);
        runner.drain();
        FakeTailer first = tailers.made.get(0);

        first.fail(new IOException("Input/output error"));
        runner.drain();
        assertThat(loop.active()).isEqualTo(1);
        assertThat(loop.degraded()).isEqualTo("container a (a): tailer failed 1 time (IOException: Input/output error), restarting");
        assertThat(metrics.value("logferry_tailer_restarts_total", "container", "a")).isEqualTo(1);
        assertThat(runner.nextDelay()).isBetween(800L, 1200L);

        runner.fireNext();
        assertThat(tailers.made).hasSize(3);
        FakeTailer second = tailers.made.get(2);
        assertThat(second.container().id()).isEqualTo("a");
        assertThat(second.resume).as("from the last committed position").isEqualTo(new Registry.Entry("f1", 100, ""));
        assertThat(second.tracker()).isSameAs(first.tracker());
        assertThat(second.started).isTrue();
        assertThat(loop.active()).isEqualTo(2);
        assertThat(loop.degraded()).as("still degraded until it has run a while").isNotNull();

        second.fail(new IllegalStateException("bad"));
        runner.drain();
        assertThat(loop.degraded()).contains("failed 2 times in a row (IllegalStateException: bad)");
        assertThat(metrics.value("logferry_tailer_restarts_total", "container", "a")).isEqualTo(2);
        assertThat(runner.later).hasSize(2);         // the first restart's stability check, and the second restart
        runner.fire(d -> d != STABLE.toMillis());
        FakeTailer third = tailers.made.get(3);
        runner.fire(d -> true);                       // the stale check of the second finds another tailer: nothing
        assertThat(loop.degraded()).isNotNull();
        runner.fire(d -> d == STABLE.toMillis());
        assertThat(loop.degraded()).as("its tailer ran a minute without failing").isNull();

        third.fail(new IOException("again"));
        runner.drain();
        assertThat(runner.nextDelay()).as("recovered: the waits start over").isBetween(800L, 1200L);
        assertThat(metrics.value("logferry_tailer_restarts_total", "container", "b")).isZero();
    }

    @Test
    void aTailerThatReadsToItsEndAfterARestartClearsTheDegradedState() throws Exception {
        loop().present(container("a", true), true);
        runner.drain();
        tailers.made.get(0).fail(new IOException("x"));
        runner.drain();
        runner.fireNext();
        assertThat(loop.degraded()).isNotNull();
        tailers.made.get(1).finish();
        runner.drain();
        assertThat(loop.degraded()).isNull();
    }

    @Test
    void aRestartKeepsWhatDiscoveryReportedMeanwhile() throws Exception {
        loop().present(container("a", true), true);
        runner.drain();
        tailers.made.get(0).fail(new IOException("x"));
        runner.drain();
        loop.present(container("a", true), false);
        loop.died("a");
        loop.destroyed("a");
        runner.drain();
        assertThat(tailers.made).as("no tailer while the restart waits").hasSize(1);
        assertThat(loop.registryEntries()).isEmpty();
        runner.fireNext();
        assertThat(tailers.made).hasSize(2);
        assertThat(tailers.made.get(1).marks).as("it reads to the end, then stops").containsExactly("removed");
        tailers.made.get(1).finish();
        runner.drain();
        loop.registryEntries();
        assertThat(loop.degraded()).isNull();
        assertThat(loop.active()).isZero();
    }

    @Test
    void nothingIsRestartedOnceTheAgentStops() throws Exception {
        loop().present(container("a", true), true);
        runner.drain();
        loop.stopTailers();
        FakeTailer a = tailers.made.get(0);
        assertThat(a.marks).containsExactly("shutdown");
        a.fail(new IOException("interrupted read"));
        runner.drain();
        assertThat(runner.later).isEmpty();
        assertThat(loop.degraded()).isNull();
    }

    @Test
    void reportsOfATailerThatIsNotTheContainersCurrentOneAreIgnored() throws Exception {
        loop().present(container("a", true), true);
        runner.drain();
        FakeTailer a = tailers.made.get(0);
        a.fail(new IOException("x"));
        runner.drain();
        runner.fireNext();
        a.fail(new IOException("late duplicate"));
        runner.drain();
        assertThat(loop.active()).isEqualTo(1);
        assertThat(runner.later).as("only the stability check").hasSize(1);
        assertThat(metrics.value("logferry_tailer_restarts_total", "container", "a")).isEqualTo(1);
    }

    @Test
    void anExceptionCausedByAVirtualMachineErrorGoesToTheFatalHandlerAndIsNotRestarted() throws Exception {
        loop().present(container("a", true), true);
        runner.drain();
        List<Throwable> handed = new ArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.currentThread().getUncaughtExceptionHandler();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> handed.add(e));
        try {
            RuntimeException failure = new RuntimeException("wrapped", new OutOfMemoryError("Java heap space"));
            tailers.made.get(0).fail(failure);
            runner.drain();
            assertThat(handed).containsExactly(failure);
            assertThat(runner.later).isEmpty();
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(before);
        }
    }

    @Test
    void theAgentsRunnerHandlesPostsInOrderOnItsOwnThreadAndSurvivesAFailingOne() throws Exception {
        ControlLoop.ThreadRunner r = new ControlLoop.ThreadRunner();
        try {
            List<Integer> seen = new CopyOnWriteArrayList<>();
            Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int i = 0; i < 1000; i++) {
                int n = i;
                r.execute(() -> {
                    seen.add(n);
                    threads.add(Thread.currentThread().getName());
                });
                if (i == 500) {
                    r.execute(() -> {
                        throw new IllegalStateException("a bug in one handler");
                    });
                }
            }
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            r.schedule(1, done::countDown);
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(seen).hasSize(1000).isSorted();
            assertThat(threads).containsExactly("logferry-control");
        } finally {
            r.close();
        }
        r.execute(() -> {
            throw new AssertionError("a post after close must be dropped");
        });
    }

    // ---- fakes ----

    /** Runs posts when the test says: {@link #drain} the immediate ones, fire the delayed ones. */
    private static final class ManualRunner implements ControlLoop.Runner {
        record Later(long delay, Runnable task) { }

        final Deque<Runnable> now = new ArrayDeque<>();
        final List<Later> later = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            now.add(task);
        }

        @Override
        public void schedule(long delayMillis, Runnable task) {
            later.add(new Later(delayMillis, task));
        }

        void drain() {
            while (!now.isEmpty()) {
                now.poll().run();
            }
        }

        long nextDelay() {
            assertThat(later).as("a delayed post").isNotEmpty();
            return later.get(0).delay();
        }

        void fireNext() {
            fire(d -> true);
        }

        /** Fires the first delayed post whose delay matches, then drains. */
        void fire(java.util.function.LongPredicate which) {
            for (int i = 0; i < later.size(); i++) {
                if (which.test(later.get(i).delay())) {
                    later.remove(i).task().run();
                    drain();
                    return;
                }
            }
            throw new AssertionError("no delayed post matches; delays: " + later.stream().map(Later::delay).toList());
        }

        @Override
        public void close() {
        }
    }

    private static final class FakeTailers implements ControlLoop.Tailers {
        final List<FakeTailer> made = new ArrayList<>();
        final Map<String, ContainerInfo> spooled = new java.util.TreeMap<>();
        final List<String> forgotten = new ArrayList<>();
        /** Spooled container ids whose description is unreadable (not in {@link #spooled}). */
        final Set<String> unreadable = new java.util.TreeSet<>();
        final Map<String, String> discarded = new java.util.TreeMap<>();

        @Override
        public Map<String, ContainerInfo> spooled() {
            return spooled;
        }

        @Override
        public Set<String> spooledIds() {
            Set<String> all = new java.util.TreeSet<>(spooled.keySet());
            all.addAll(unreadable);
            return all;
        }

        @Override
        public void discardSpooled(String containerId, String why) {
            discarded.put(containerId, why);
        }

        @Override
        public void forget(String containerId) {
            forgotten.add(containerId);
        }

        @Override
        public Tailer create(ContainerInfo c, ContainerSettings s, boolean api, Registry.Entry resume, AckTracker tracker,
                             String hostName, Tailer.Done done) {
            FakeTailer t = new FakeTailer(c, tracker, resume, hostName, done);
            if (!c.running()) {
                t.marks.add("stopped");       // as the real ones do when made for a stopped container
            }
            made.add(t);
            return t;
        }

        @Override
        public Encoder encoder(ContainerInfo c, ContainerSettings s, boolean api, String hostName) {
            return null;
        }

        @Override
        public void start(Tailer tailer, ContainerSettings s) {
            ((FakeTailer) tailer).started = true;
        }
    }

    private static final class FakeTailer implements Tailer {
        final List<String> marks = new ArrayList<>();
        final AckTracker tracker;
        final Registry.Entry resume;
        final String hostName;
        final Done done;
        ContainerInfo container;
        boolean started;

        FakeTailer(ContainerInfo container, AckTracker tracker, Registry.Entry resume, String hostName, Done done) {
            this.container = container;
            this.tracker = tracker;
            this.resume = resume;
            this.hostName = hostName;
            this.done = done;
        }

        /** Its thread ends on {@code e}, as the real ones report it. */
        void fail(Exception e) {
            done.failed(this, e);
            done.finished(this);
        }

        void finish() {
            done.finished(this);
        }

        @Override
        public void run() {
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
            return container.logPath();
        }

        @Override
        public void rename(ContainerInfo renamed, Encoder newBuilder) {
            container = renamed;
            marks.add("renamed " + renamed.name());
        }

        @Override
        public void markStopped() {
            marks.add("stopped");
        }

        @Override
        public void markRunning() {
            marks.add("running");
        }

        @Override
        public void markRemoved() {
            marks.add("removed");
        }

        @Override
        public void shutdown() {
            marks.add("shutdown");
        }
    }
}
