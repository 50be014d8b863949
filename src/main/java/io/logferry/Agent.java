package io.logferry;

import com.github.dockerjava.api.DockerClient;
import io.logferry.config.Config;
import io.logferry.docker.Discovery;
import io.logferry.docker.DockerConnection;
import io.logferry.elasticsearch.DatasetTemplates;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.elasticsearch.ElasticsearchOutput;
import io.logferry.elasticsearch.EsConnection;
import io.logferry.elasticsearch.Setup;
import io.logferry.http.StatusServer;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.StartPosition;
import io.logferry.pipeline.Batcher;
import io.logferry.pipeline.DiscardOutput;
import io.logferry.pipeline.EventQueue;
import io.logferry.pipeline.Output;
import io.logferry.registry.Registry;
import io.logferry.selection.DataStreamBudget;
import io.logferry.selection.Selector;
import io.logferry.tail.ApiTailer;
import io.logferry.tail.FileTailer;
import io.logferry.tail.HeldFiles;
import io.logferry.tail.LogPrefetcher;
import io.logferry.tail.Tailer;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Wires the pipeline and runs it: discovery → selection → tailers → queue → batcher → output →
 * acknowledgements → registry. Owns the map of containers being tailed; discovery reports to it
 * on its own thread, tailers report when they are done.
 */
public final class Agent implements Discovery.Listener, Tailer.Done, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final Config config;
    private final Metrics metrics = new Metrics();
    private final Registry registry;
    private final Map<String, Registry.Entry> unclaimed = new ConcurrentHashMap<>();
    private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
    private final Map<String, Tailer> tailers = new ConcurrentHashMap<>();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final EventQueue queue;
    private final Selector selector;
    private final DataStreamBudget dataStreams;
    /** Rotated files the file tailers hold open unread: bounded by limits.held_* over all containers. */
    private final HeldFiles held;
    private final String version;
    private DockerClient docker;
    private Output output;
    private DatasetTemplates templates = new DatasetTemplates(null);
    private LogPrefetcher prefetcher;
    private Batcher batcher;
    private Discovery discovery;
    private StatusServer http;
    private ScheduledExecutorService flusher;
    private volatile String hostName = "";
    private volatile String dockerProblem = "not connected to Docker yet";
    private String agentId = "";

    private record Tracked(AckTracker tracker, String path, boolean removed) { }

    public Agent(Config config, String version) {
        this.config = config;
        this.version = version;
        this.registry = new Registry(Path.of(config.registry().path()));
        this.queue = new EventQueue(config.queue().maxEvents(), config.queue().maxBytes());
        this.selector = new Selector(config, Discovery.selfContainerId());
        this.dataStreams = new DataStreamBudget(config);
        this.held = new HeldFiles(config.limits().heldFilesPerContainer(), config.limits().heldBytesTotal());
    }

    public Metrics metrics() {
        return metrics;
    }

    public void start() throws Exception {
        unclaimed.putAll(registry.load());
        agentId = agentId();
        log.info("logferry {} starting: agent id {}, registry {} ({} containers), output {}", version, agentId,
                registry.path(), unclaimed.size(), config.output().name().toLowerCase());
        metrics.gauge(Metric.QUEUE_EVENTS, queue::size);
        metrics.gauge(Metric.QUEUE_BYTES, queue::bytes);
        metrics.gauge(Metric.TAILERS_ACTIVE, () -> tailers.size());
        metrics.gauge(Metric.LABEL_DATA_STREAMS, dataStreams::size);
        metrics.gauge(Metric.HELD_BYTES, held::total);
        if (config.output() == Config.Output.DISCARD) {
            output = new DiscardOutput(metrics);
        } else {
            if (config.elasticsearch().tlsVerify() == Config.TlsVerify.NONE) {
                log.warn("elasticsearch.tls.verify is none: the server's certificate is not checked, so anyone between the agent"
                        + " and Elasticsearch can read and change the logs and the credentials");
            }
            RestClient client = EsConnection.build(config.elasticsearch());
            if (config.setupEnabled()) {
                installTemplate(client);
            }
            output = new ElasticsearchOutput(client, config.elasticsearch(), metrics);
            if (config.setupEnabled()) {
                templates = new DatasetTemplates(client, metrics);
            }
        }
        batcher = new Batcher(queue, output, config.elasticsearch().bulkMaxEvents(), config.elasticsearch().bulkMaxBytes(),
                config.elasticsearch().flushInterval(), config.elasticsearch().workers(), metrics);
        batcher.start();
        flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "logferry-registry");
            t.setDaemon(true);
            return t;
        });
        long every = config.registry().flushInterval().toMillis();
        flusher.scheduleWithFixedDelay(this::flushRegistry, every, every, TimeUnit.MILLISECONDS);
        if (config.http().enabled()) {
            http = new StatusServer(config, metrics, this::problem, version);
            http.start();
            log.info("health and metrics on http://{}:{}/", config.http().host(), http.port());
        }
        if (config.docker().readMode() != Config.ReadMode.API && Files.isReadable(Path.of(config.docker().containersPath()))) {
            prefetcher = new LogPrefetcher(Path.of(config.docker().containersPath()));
            prefetcher.start();
        }
        docker = DockerConnection.connect(config.docker());
        discovery = new Discovery(docker, this);
        discovery.start();
    }

    /** The template must exist before the first document creates the data stream; retried until it does. */
    private void installTemplate(RestClient client) throws InterruptedException {
        long wait = 1000;
        while (true) {
            try {
                Setup.installTemplate(client, "", metrics);
                return;
            } catch (IOException e) {
                log.warn("cannot install the index template yet ({}); retrying in {} ms", e.getMessage(), wait);
                Thread.sleep(wait);
                wait = Math.min(wait * 2, 30_000);
            }
        }
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

    /** Null when Docker and the output are reachable, else the reason (for /health). */
    public String problem() {
        String d = dockerProblem;
        if (d != null) {
            return "docker: " + d;
        }
        String o = output == null ? "starting" : output.problem();
        return o == null ? null : "elasticsearch: " + o;
    }

    // ---- discovery reports (discovery thread) ----

    @Override
    public void connected(String name) {
        hostName = name;
        dockerProblem = null;
    }

    @Override
    public void disconnected(String reason) {
        dockerProblem = reason;
    }

    @Override
    public synchronized void present(ContainerInfo c, boolean fromList) {
        Tailer running = tailers.get(c.id());
        if (running != null) {
            if (c.running()) {
                running.markRunning();
            } else if (fromList) {
                running.markStopped();       // a die missed while Docker was unreachable
            }
            if (!running.container().name().equals(c.name()) && !c.logPath().isEmpty()) {
                Selector.Decision d = dataStreams.apply(selector.decide(c));
                d.settings().ifPresent(s -> running.rename(c, builder(c, s, running instanceof FileTailer)));
            }
            return;
        }
        Selector.Decision d = dataStreams.apply(selector.decide(c));
        boolean first = reported.add(c.id());
        if (first) {
            for (Selector.Refusal r : d.refusals()) {
                log.warn("container {}: {}", c.describe(), r.message());
                metrics.counter(Metric.LABEL_WARNINGS).increment();
                metrics.counter(Metric.LABEL_REFUSALS, "reason", r.reason()).increment();
            }
            if (d.labelsCut() > 0) {
                metrics.counter(Metric.CONTAINER_LABELS_CUT).add(d.labelsCut());
            }
        }
        if (!d.selected()) {
            if (first) {
                log.info("container {} not shipped: {}", c.describe(), d.reason());
            }
            return;
        }
        ContainerSettings s = d.settings().orElseThrow();
        Path containers = Path.of(config.docker().containersPath());
        boolean api = switch (config.docker().readMode()) {
            case API -> true;
            case FILE -> false;
            // the directory may be 0710 (group may enter, not list) and its files still readable
            case AUTO -> !c.logDriver().equals("json-file") || !Files.isDirectory(containers)
                    || !(Files.isExecutable(containers) || Files.isReadable(containers));
        };
        if (!api && !c.logDriver().equals("json-file")) {
            if (first) {
                log.warn("container {} uses the log driver '{}'; docker.read_mode file reads only json-file (use api or auto)",
                        c.describe(), c.logDriver());
            }
            return;
        }
        Tracked t = tracked.get(c.id());
        if (t == null) {
            Registry.Entry e = unclaimed.remove(c.id());
            if (e == null && !c.running() && fromList && s.startPosition() == StartPosition.END) {
                return;
            }
            AckTracker tracker = new AckTracker(c.id(), e == null ? null : new Cursor(0, e.fileId(), e.offset()));
            t = new Tracked(tracker, "", false);
            tracked.put(c.id(), t);
        }
        Cursor committed = t.tracker().committed();
        Registry.Entry resume = committed == null ? null : new Registry.Entry(committed.fileId(), committed.offset(), "");
        Tailer tailer = api
                ? new ApiTailer(docker, c, s, resume, t.tracker(), queue, builder(c, s, false), metrics, this)
                : new FileTailer(c, s, containers, resume, t.tracker(), queue, builder(c, s, true), metrics, this, prefetcher, held);
        tracked.put(c.id(), new Tracked(t.tracker(), tailer.source(), false));
        tailers.put(c.id(), tailer);
        metrics.gauge(Metric.BYTES_BEHIND, tailer::behind, "container", c.name());
        if (first) {
            log.info("container {} shipped to {} ({}, {})", c.describe(), s.dataStream(), resume == null ? "new" : "resuming",
                    api ? "Docker logs API" : "json-file");
        }
        DatasetTemplates gate = templates;
        Thread.ofVirtual().name("tail-" + c.shortId()).start(() -> {
            try {
                gate.ensure(s.dataset());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            tailer.run();
        });
    }

    private DocumentBuilder builder(ContainerInfo c, ContainerSettings s, boolean file) {
        Path containers = Path.of(config.docker().containersPath());
        return new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo(version, agentId, hostName),
                file ? containers.resolve(c.id()).resolve(c.id() + "-json.log").toString() : null, config.limits());
    }

    @Override
    public void died(String id) {
        Tailer t = tailers.get(id);
        if (t != null) {
            t.markStopped();
        }
    }

    @Override
    public synchronized void destroyed(String id) {
        Tailer t = tailers.get(id);
        if (t != null) {
            t.markRemoved();
        }
        Tracked tr = tracked.get(id);
        if (tr != null) {
            tracked.put(id, new Tracked(tr.tracker(), tr.path(), true));
        }
        unclaimed.remove(id);
        reported.remove(id);
    }

    @Override
    public void listed(Set<String> ids) {
        tailers.forEach((id, t) -> {
            if (!ids.contains(id)) {
                t.markRemoved();             // removed while Docker was unreachable
            }
        });
        unclaimed.keySet().removeIf(id -> {
            if (!ids.contains(id)) {
                log.info("registry entry of container {} dropped: the container no longer exists", id.substring(0, Math.min(12, id.length())));
                return true;
            }
            return false;
        });
    }

    @Override
    public void finished(Tailer tailer) {
        tailers.remove(tailer.container().id(), tailer);
        metrics.removeGauge(Metric.BYTES_BEHIND, "container", tailer.container().name());
    }

    // ---- registry ----

    private void flushRegistry() {
        try {
            Map<String, Registry.Entry> entries = new HashMap<>(unclaimed);
            for (Map.Entry<String, Tracked> e : tracked.entrySet()) {
                Tracked t = e.getValue();
                if (t.removed() && !tailers.containsKey(e.getKey()) && t.tracker().outstanding() == 0) {
                    tracked.remove(e.getKey(), t);
                    continue;
                }
                Cursor c = t.tracker().committed();
                if (c != null && !c.fileId().equals("unknown")) {
                    entries.put(e.getKey(), new Registry.Entry(c.fileId(), c.offset(), t.path()));
                }
            }
            registry.write(entries);
        } catch (IOException | RuntimeException e) {
            log.error("cannot write the registry {}: {}", registry.path(), e.getMessage());
        } catch (Error e) {
            // a scheduled executor keeps what its task throws in a Future nobody reads: hand it on
            Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
            throw e;
        }
    }

    /** SIGTERM: stop reading, deliver what is queued within the deadline, write the registry. */
    @Override
    public void close() {
        long t0 = System.nanoTime();
        if (discovery != null) {
            discovery.stop();
        }
        tailers.values().forEach(Tailer::shutdown);
        boolean drained = true;
        if (batcher != null) {
            try {
                drained = batcher.awaitIdle(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (flusher != null) {
            flusher.shutdownNow();
        }
        flushRegistry();
        if (batcher != null) {
            batcher.close();
        }
        if (output != null) {
            output.close();
        }
        if (prefetcher != null) {
            prefetcher.close();
        }
        if (http != null) {
            http.close();
        }
        if (docker != null) {
            try {
                docker.close();
            } catch (IOException ignored) {
                // the engine may be gone
            }
        }
        log.info("logferry stopped in {} ms ({}; registry written)", (System.nanoTime() - t0) / 1_000_000,
                drained ? "queue delivered" : "queue not delivered within " + config.shutdownTimeout().toMillis()
                        + " ms: the rest is read again at the next start");
    }
}
