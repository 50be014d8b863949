package io.logferry;

import com.github.dockerjava.api.DockerClient;
import io.logferry.config.Config;
import io.logferry.decode.Encoder;
import io.logferry.docker.Discovery;
import io.logferry.docker.DockerConnection;
import io.logferry.elasticsearch.DatasetTemplates;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.elasticsearch.ElasticsearchOutput;
import io.logferry.elasticsearch.EsConnection;
import io.logferry.elasticsearch.OperatorTargets;
import io.logferry.elasticsearch.Setup;
import io.logferry.http.ElasticsearchProbe;
import io.logferry.http.Liveness;
import io.logferry.http.StatusServer;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.BufferBudget;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.DataStream;
import io.logferry.pipeline.Batcher;
import io.logferry.pipeline.DiscardOutput;
import io.logferry.pipeline.EventQueue;
import io.logferry.pipeline.Output;
import io.logferry.registry.InFlight;
import io.logferry.registry.Registry;
import io.logferry.selection.DataStreamBudget;
import io.logferry.selection.Selector;
import io.logferry.tail.ApiTailer;
import io.logferry.tail.FileTailer;
import io.logferry.tail.HeldFiles;
import io.logferry.spool.Spool;
import io.logferry.tail.LogPrefetcher;
import io.logferry.tail.Tailer;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wires the pipeline and runs it: discovery → selection → tailers → queue → batcher → output →
 * acknowledgements → registry. The container map is the {@link ControlLoop}'s: discovery and the
 * tailers post to it, and it alone makes, marks and restarts tailers.
 *
 * <p>Thread-safety: the final fields are made by the constructor. {@link #start} (the main
 * thread) makes the running parts and publishes each through a volatile field before any thread
 * that reads it starts; {@link #live}, {@link #ready}, {@link #degraded} (the http thread) and {@link #close}
 * (the shutdown thread) read them from there, and find null what is not started yet.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /** The longest the registry flush and shutdown wait for the control loop's answer. */
    private static final Duration LOOP_ANSWER = Duration.ofSeconds(5);
    /** The registry flusher asks the control loop at least this often, changes or not. */
    static final Duration REGISTRY_ASK_EVERY = Duration.ofSeconds(10);
    /**
     * A test hook, read once: {@code -Dlogferry.test.stall=control} makes the control loop stop turning (as a
     * deadlock would) once it is connected to Docker, so that a test can see {@code /health} fail. Nothing else
     * reads it.
     */
    static final String STALL_HOOK = "logferry.test.stall";

    private final Config config;
    private final Metrics metrics = new Metrics();
    private final Registry registry;
    private final EventQueue queue;
    private final Selector selector;
    private final DataStreamBudget dataStreams;
    /** Rotated files the file tailers hold open unread: bounded by limits.held_* over all containers. */
    private final HeldFiles held;
    private final String version;
    /** Unacknowledged bytes of log files about to be lost (removed containers, rotated files released or deleted). */
    private volatile Spool spool;
    private volatile DockerClient docker;
    private volatile Output output;
    private volatile ElasticsearchProbe probe;
    private volatile LogPrefetcher prefetcher;
    /** Checks every file tailer's rotation chain and runs the copies to the spool; closed after the tailers end. */
    private final io.logferry.tail.RotationWatch rotationWatch = new io.logferry.tail.RotationWatch();
    private volatile Batcher batcher;
    private volatile ControlLoop control;
    private volatile ControlLoop.ThreadRunner controlRunner;
    /** Registry flushes done (or failed): the flusher's progress, for {@link Liveness}. */
    private final AtomicLong registryFlushes = new AtomicLong();
    /** When the flusher last asked the control loop (registry thread, then the closing thread after it stopped). */
    private volatile long registryAskedAt = System.nanoTime();
    private volatile Liveness liveness;
    /** {@link #STALL_HOOK} given and not yet done (the flusher's thread): done once Docker is connected. */
    private boolean stallHook = "control".equals(System.getProperty(STALL_HOOK));
    private volatile Discovery discovery;
    private volatile StatusServer http;
    private volatile ScheduledExecutorService flusher;
    /** The lines in flight, beside the registry (poison pills); null before start or when it cannot be opened. */
    private volatile InFlight inFlight;
    /** {@code limits.buffers_max_bytes}: every tailer's partial lines and multiline events together. */
    private final BufferBudget buffers;

    public Agent(Config config, String version) {
        this.config = config;
        this.version = version;
        this.registry = new Registry(Path.of(config.registry().path()));
        this.queue = new EventQueue(config.queue().maxEvents(), config.queue().maxBytes());
        this.selector = new Selector(config, Discovery.selfContainerId());
        this.dataStreams = new DataStreamBudget(config);
        this.held = new HeldFiles(config.limits().heldFilesPerContainer(), config.limits().heldBytesTotal());
        this.buffers = new BufferBudget(config.limits().buffersMaxBytes(), metrics.counter(Metric.BUFFERS_CUT));
    }

    public Metrics metrics() {
        return metrics;
    }

    public void start() throws Exception {
        Discovery.Listener loop = startWithoutDiscovery();
        Discovery disc = new Discovery(docker, loop);
        discovery = disc;
        disc.start();
    }

    /**
     * Everything {@link #start} starts but discovery: the caller tells the returned listener which
     * containers exist (the training run of {@code cli.TrainCommand}, on generated logs).
     */
    public Discovery.Listener startWithoutDiscovery() throws Exception {
        Map<String, Registry.Entry> entries = registry.load();
        String agentId = agentId();
        log.info("logferry {} starting: agent id {}, registry {} ({} containers), output {}", version, agentId,
                registry.path(), entries.size(), config.output().name().toLowerCase());
        registerGauges();
        try {
            inFlight = InFlight.open(InFlight.beside(registry.path()));
        } catch (IOException | RuntimeException e) {
            log.warn("cannot open the in-flight file beside the registry ({}): a line the agent dies on would be read again"
                    + " at the next start", e.toString());
        }
        spool = new Spool(Path.of(config.spool().path()), config.spool().maxBytes(), config.spool().maxSegmentsPerContainer(), metrics);
        if (spool.files() > 0) {
            log.info("spool {}: {} spooled range(s), {} bytes to ship", spool.dir(), spool.files(), spool.bytes());
        }
        OutputParts parts = output(config);
        output = parts.output();
        probe = parts.probe();
        Batcher b = new Batcher(queue, parts.output(), config.elasticsearch().bulkMaxEvents(), config.elasticsearch().bulkMaxBytes(),
                config.elasticsearch().flushInterval(), config.elasticsearch().workers(), metrics);
        batcher = b;
        b.start();
        if (parts.probe() != null) {
            parts.probe().start();
        }
        if (parts.output() instanceof ElasticsearchOutput es) {
            // the index template, in the background: the output sends nothing before it exists, the tailers start now
            es.start();
        }
        ScheduledExecutorService f = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "logferry-registry");
            t.setDaemon(true);
            return t;
        });
        flusher = f;
        liveness = new Liveness(config.http().stuckAfter(), System::nanoTime, List.of(
                new Liveness.Stage("control loop", () -> {
                    ControlLoop.ThreadRunner r = controlRunner;
                    return r != null && r.due();
                }, () -> {
                    ControlLoop.ThreadRunner r = controlRunner;
                    return r == null ? 0 : r.turns();
                }),
                new Liveness.Stage("output", () -> queue.size() > 0 || queue.taken() > 0, this::outputMoves),
                new Liveness.Stage("registry flusher", () -> control != null, registryFlushes::get)));
        if (config.http().enabled()) {
            StatusServer h = new StatusServer(config, metrics, this::live, this::ready, this::degraded, version, parts.probe());
            http = h;
            h.start();
            log.info("health and metrics on http://{}:{}/", config.http().host(), h.port());
        }
        LogPrefetcher p = null;
        if (config.docker().readMode() != Config.ReadMode.API && Files.isReadable(Path.of(config.docker().containersPath()))) {
            p = new LogPrefetcher(Path.of(config.docker().containersPath()));
            prefetcher = p;
            p.start();
        }
        DockerClient d = DockerConnection.connect(config.docker());
        docker = d;
        ControlLoop.ThreadRunner runner = new ControlLoop.ThreadRunner();
        controlRunner = runner;
        ControlLoop c = new ControlLoop(config, selector, dataStreams, metrics, entries, new AgentTailers(d, p, parts.templates(), agentId),
                runner, ControlLoop.RESTARTS, ControlLoop.STABLE_AFTER);
        control = c;
        long every = config.registry().flushInterval().toMillis();
        f.scheduleWithFixedDelay(this::flushRegistry, every, every, TimeUnit.MILLISECONDS);
        return c;
    }

    /** The port {@code /health} and {@code /metrics} listen on, or -1 without them (before start, or {@code http.enabled: false}). */
    public int httpPort() {
        StatusServer h = http;
        return h == null ? -1 : h.port();
    }

    private void registerGauges() {
        metrics.gauge(Metric.QUEUE_EVENTS, queue::size);
        metrics.gauge(Metric.QUEUE_BYTES, queue::bytes);
        metrics.gauge(Metric.TAILERS_ACTIVE, () -> {
            ControlLoop c = control;
            return c == null ? 0 : c.active();
        });
        metrics.gauge(Metric.LABEL_DATA_STREAMS, dataStreams::size);
        metrics.gauge(Metric.HELD_BYTES, held::total);
        metrics.gauge(Metric.BUFFERS_BYTES, buffers::used);
    }

    private record OutputParts(Output output, DatasetTemplates templates, ElasticsearchProbe probe) { }

    /**
     * The output, the per-dataset template gate and, with Elasticsearch, the health probe that
     * wakes the output when the cluster answers again. Nothing here waits for Elasticsearch: the
     * index template is the output's setup, which its {@code start()} runs in the background.
     */
    private OutputParts output(Config config) throws Exception {
        DatasetTemplates templates = new DatasetTemplates(null);
        ElasticsearchProbe esProbe = null;
        Output out;
        if (config.output() == Config.Output.DISCARD) {
            out = new DiscardOutput(metrics);
        } else {
            if (config.elasticsearch().tlsVerify() == Config.TlsVerify.NONE) {
                log.warn("elasticsearch.tls.verify is none: the server's certificate is not checked, so anyone between the agent"
                        + " and Elasticsearch can read and change the logs and the credentials");
            }
            RestClient client = EsConnection.build(config.elasticsearch());
            // the template must exist before the first document creates the data stream: the output sends after it
            // a destination a label chose that keeps failing parks its container's lane; the operator's own behave as ever
            OperatorTargets operator = new OperatorTargets(DataStream.logs(config.defaults().dataset(), config.defaults().namespace()).name(),
                    config.defaults().pipeline().isEmpty() ? null : config.defaults().pipeline());
            ElasticsearchOutput es = new ElasticsearchOutput(client, config.elasticsearch(), metrics,
                    config.setupEnabled() ? () -> Setup.installTemplate(client, config.retention(), metrics) : null, operator);
            out = es;
            esProbe = new ElasticsearchProbe(EsConnection.build(config.elasticsearch(), 1), config.elasticsearch(),
                    ElasticsearchProbe.EVERY, es::clusterAnswers);
            if (config.setupEnabled()) {
                templates = new DatasetTemplates(client, metrics, es::pause, config.retention());
            }
        }
        return new OutputParts(out, templates, esProbe);
    }

    private String agentId() throws IOException {
        Path file = registry.path().toAbsolutePath().resolveSibling("agent.id");
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        String id = UUID.randomUUID().toString();
        Files.createDirectories(file.getParent());
        Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
        return id;
    }

    /**
     * Null while the agent does its job, else why not (for {@code /health}, the liveness): Docker cannot be
     * reached, or a stage holds work without moving ({@link Liveness}, {@code http.stuck_after}). Elasticsearch
     * being away is not a reason: the agent then reads, queues, spools and retries, and a restart would not help.
     */
    public String live() {
        ControlLoop c = control;
        String d = c == null ? "not connected to Docker yet" : c.dockerProblem();
        if (d != null) {
            return "docker: " + d;
        }
        Liveness l = liveness;
        return l == null ? null : l.stuck();
    }

    /** What the output has done so far (acknowledged, retried, dead-lettered, parked, failed requests): it moves while it has any of it. */
    private long outputMoves() {
        return metrics.total(Metric.EVENTS_ACKED.metricName()) + metrics.total(Metric.EVENTS_RETRIED.metricName())
                + metrics.total(Metric.EVENTS_DEAD_LETTERED.metricName()) + metrics.total(Metric.BULK_REQUESTS_FAILED.metricName())
                + metrics.total(Metric.EVENTS_PARKED.metricName());
    }

    /** Null when Docker and the output are reachable, else the reason (for {@code /ready}, and {@code /health} degraded). */
    public String ready() {
        ControlLoop c = control;
        String d = c == null ? "not connected to Docker yet" : c.dockerProblem();
        if (d != null) {
            return "docker: " + d;
        }
        Output out = output;
        String o = out == null ? "starting" : out.problem();
        return o == null ? null : "elasticsearch: " + o;
    }

    /** Null while every tailer runs, else the containers whose tailer failed and is being restarted (for /health). */
    public String degraded() {
        ControlLoop c = control;
        String t = c == null ? null : c.degraded();
        Spool sp = spool;
        String s = sp == null ? null : sp.problem();
        return t == null ? s : s == null ? t : t + "; " + s;
    }

    /** The agent's tailers: file or API, each on a virtual thread that first waits for its data stream's template. */
    private final class AgentTailers implements ControlLoop.Tailers {
        private final DockerClient docker;
        private final LogPrefetcher prefetcher;
        private final DatasetTemplates templates;
        private final String agentId;
        private final Path containers = Path.of(config.docker().containersPath());

        AgentTailers(DockerClient docker, LogPrefetcher prefetcher, DatasetTemplates templates, String agentId) {
            this.docker = docker;
            this.prefetcher = prefetcher;
            this.templates = templates;
            this.agentId = agentId;
        }

        @Override
        public Tailer create(ContainerInfo c, ContainerSettings s, boolean api, Registry.Entry resume, AckTracker tracker,
                             String hostName, Tailer.Done done) {
            Encoder encoder = encoder(c, s, api, hostName);
            return api
                    ? new ApiTailer(docker, c, s, resume, tracker, queue, encoder, metrics, done, buffers)
                    : new FileTailer(c, s, containers, resume, tracker, queue, encoder, metrics, done, prefetcher, held, spool, buffers,
                            rotationWatch);
        }

        @Override
        public Map<String, ContainerInfo> spooled() {
            return spool.containers();
        }

        @Override
        public void forget(String containerId) {
            spool.deleteContainer(containerId);
        }

        @Override
        public Set<String> spooledIds() {
            return spool.containerIdsWithSegments();
        }

        @Override
        public void discardSpooled(String containerId, String why) {
            spool.discard(containerId, why);
        }

        @Override
        public Encoder encoder(ContainerInfo c, ContainerSettings s, boolean api, String hostName) {
            return new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo(version, agentId, hostName),
                    api ? null : containers.resolve(c.id()).resolve(c.id() + "-json.log").toString(), config.limits(),
                    config.elasticsearch().deadLetter());
        }

        @Override
        public void start(Tailer tailer, ContainerSettings s) {
            Thread.ofVirtual().name("tail-" + tailer.container().shortId()).start(() -> {
                try {
                    for (String dataset : s.datasets()) {
                        templates.ensure(dataset);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                InFlight f = inFlight;
                if (f != null) {
                    String id = tailer.container().id();
                    tailer.inFlight(f.take(id), f.takePoison(id));
                }
                tailer.run();
            });
        }
    }

    // ---- registry ----

    /**
     * Every {@code registry.flush_interval}: writes what the control loop says the registry holds
     * now, when a tracker changed since the last time or {@link #REGISTRY_ASK_EVERY} has passed
     * (what only the loop changes: entries claimed or dropped, removed containers forgotten). An
     * idle agent then wakes neither the loop nor anything else here but this thread, once per interval.
     */
    private void flushRegistry() {
        ControlLoop c = control;
        if (c != null && stallHook && c.dockerProblem() == null) {
            stallHook = false;
            log.warn("test hook {}=control: the control loop stops turning now", STALL_HOOK);
            controlRunner.execute(ControlLoop::stallForever);
        }
        if (c != null && !c.registryChanged().take() && System.nanoTime() - registryAskedAt < REGISTRY_ASK_EVERY.toNanos()) {
            registryFlushes.incrementAndGet();     // the flusher turns (liveness), with nothing to ask
            return;
        }
        writeRegistry();
    }

    /** Writes what the control loop says the registry holds now (registry thread, and shutdown at the end). */
    private void writeRegistry() {
        ControlLoop c = control;
        if (c == null) {
            return;
        }
        registryAskedAt = System.nanoTime();
        try {
            registry.write(c.ask(c::registryEntries, LOOP_ANSWER));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            log.error("cannot write the registry {}: the control loop did not answer within {} ms", registry.path(), LOOP_ANSWER.toMillis());
        } catch (IOException | RuntimeException e) {
            log.error("cannot write the registry {}: {}", registry.path(), e.getMessage());
        } catch (Error e) {
            // a scheduled executor keeps what its task throws in a Future nobody reads: hand it on
            Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
            throw e;
        } finally {
            registryFlushes.incrementAndGet();
        }
    }

    /** SIGTERM: stop reading, deliver what is queued within the deadline, write the registry. */
    @Override
    public void close() {
        long t0 = System.nanoTime();
        Discovery disc = discovery;
        if (disc != null) {
            disc.stop();
        }
        ControlLoop c = control;
        if (c != null) {
            try {
                c.shutdownTailers(LOOP_ANSWER);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (TimeoutException e) {
                log.warn("the control loop did not stop the tailers within {} ms", LOOP_ANSWER.toMillis());
            }
        }
        boolean drained = true;
        Batcher b = batcher;
        if (b != null) {
            try {
                drained = b.awaitIdle(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        ScheduledExecutorService f = flusher;
        if (f != null) {
            // not shutdownNow: interrupting a flush in the middle of its write fails it
            // (ClosedByInterruptException) and logs an error for nothing; the last flush follows
            f.shutdown();
            try {
                f.awaitTermination(LOOP_ANSWER.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        writeRegistry();
        InFlight fl = inFlight;
        if (fl != null) {
            try {
                fl.close();          // a clean exit: nothing was in flight
            } catch (IOException e) {
                log.warn("cannot close the in-flight file: {}", e.toString());
            }
        }
        if (c != null) {
            c.close();
        }
        if (b != null) {
            b.close();
        }
        Output out = output;
        if (out != null) {
            out.close();
        }
        ElasticsearchProbe pr = probe;
        if (pr != null) {
            pr.close();
        }
        LogPrefetcher p = prefetcher;
        if (p != null) {
            p.close();
        }
        rotationWatch.close();
        StatusServer h = http;
        if (h != null) {
            h.close();
        }
        DockerClient d = docker;
        if (d != null) {
            try {
                d.close();
            } catch (IOException ignored) {
                // the engine may be gone
            }
        }
        log.info("logferry stopped in {} ms ({}; registry written)", (System.nanoTime() - t0) / 1_000_000,
                drained ? "queue delivered" : "queue not delivered within " + config.shutdownTimeout().toMillis()
                        + " ms: the rest is read again at the next start");
    }
}
