package io.logferry.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Event;
import io.logferry.model.ContainerInfo;
import io.logferry.retry.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Watches the Docker engine: subscribes to container events first, then lists every container,
 * so that nothing that starts in between is missed; reconnects with backoff when the daemon
 * goes away (waiting by {@link Backoff}) and lists again. The list after a reconnect is the
 * reconcile: a container that died meanwhile is reported present and not running, one that was
 * removed meanwhile is missing from {@link Listener#listed}. Runs on one thread
 * ({@code logferry-discovery}) and reports to a {@link Listener}; the listener owns the
 * container map. Duplicate reports are expected and harmless. The engine is reached through
 * {@link Engine}, so that tests can play it.
 */
public final class Discovery implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Discovery.class);
    private static final Object FAILED = new Object();

    /**
     * What discovery reports, in the order it learns it; all calls come from the discovery thread.
     * The agent's implementation only posts each report to its control loop.
     */
    public interface Listener {
        /** A container exists (running or not), from the initial list or a create/start event. */
        void present(ContainerInfo c, boolean fromList);

        void died(String id);

        void destroyed(String id);

        /** The list is complete: containers not in {@code ids} no longer exist. */
        void listed(Set<String> ids);

        void connected(String hostName);

        void disconnected(String reason);
    }

    /** Reconnect waits: 1 s doubling to 30 s, with jitter. */
    static final Backoff RECONNECT = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

    private final Engine engine;
    private final Listener listener;
    private final Backoff backoff;
    private final Backoff.Sleeper sleeper;
    private volatile boolean running = true;
    private volatile Closeable subscription;
    private volatile Thread thread;

    public Discovery(DockerClient docker, Listener listener) {
        this(new DockerEngine(docker), listener, RECONNECT, Thread::sleep);
    }

    /** @param sleeper waits between reconnects ({@link Thread#sleep(long)} but in tests) */
    Discovery(Engine engine, Listener listener, Backoff backoff, Backoff.Sleeper sleeper) {
        this.engine = engine;
        this.listener = listener;
        this.backoff = backoff;
        this.sleeper = sleeper;
    }

    public void start() {
        Thread t = new Thread(this, "logferry-discovery");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    @Override
    public void run() {
        int failures = 0;
        long since = System.currentTimeMillis() / 1000 - 1;
        while (running) {
            BlockingQueue<Object> events = new LinkedBlockingQueue<>();
            try {
                listener.connected(engine.hostName());
                subscription = engine.events(since, events::add, () -> events.add(FAILED));
                Set<String> ids = new HashSet<>();
                for (String id : engine.containerIds()) {
                    ids.add(id);
                    ContainerInfo info = engine.inspect(id);
                    if (info != null) {
                        listener.present(info, true);
                    }
                }
                listener.listed(ids);
                failures = 0;
                while (running) {
                    // an event, the stream's end (FAILED) or stop()'s interrupt ends the wait: no timer at idle
                    Object o = events.poll(60, TimeUnit.SECONDS);
                    if (o == null) {
                        continue;
                    }
                    if (o == FAILED) {
                        throw new IllegalStateException("the Docker event stream ended");
                    }
                    Event e = (Event) o;
                    if (e.getTime() != null) {
                        since = Math.max(since, e.getTime() - 1);
                    }
                    handle(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                listener.disconnected(String.valueOf(e.getMessage()));
                closeSubscription();
                long wait = backoff.millis(++failures);
                log.warn("lost the Docker engine ({}); reconnecting in {} ms", e.getMessage(), wait);
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void handle(Event e) {
        String id = e.getId();
        String action = e.getAction() != null ? e.getAction() : e.getStatus();
        if (id == null || action == null) {
            return;
        }
        switch (action) {
            case "create" -> {
                // a container that prints and exits within milliseconds (--rm) may be gone
                // before an inspect answers: then the event itself describes it
                ContainerInfo info = engine.inspect(id);
                if (info == null) {
                    info = fromEvent(e, true);
                } else if (!info.running()) {
                    info = new ContainerInfo(info.id(), info.name(), info.imageName(), info.labels(), info.logPath(), info.logDriver(), true);
                }
                if (info != null) {
                    listener.present(info, false);
                }
            }
            case "start", "restart", "unpause", "rename" -> {
                ContainerInfo info = engine.inspect(id);
                if (info == null) {
                    info = fromEvent(e, true);
                }
                if (info != null) {
                    listener.present(info, false);
                }
            }
            case "die" -> listener.died(id);
            case "destroy" -> listener.destroyed(id);
            default -> { }
        }
    }

    /** Keys Docker adds to a container event's attributes besides the container's labels. */
    private static final Set<String> EVENT_KEYS = Set.of("name", "image", "exitCode", "signal", "execDuration", "oldName");

    static ContainerInfo fromEvent(Event e, boolean running) {
        if (e.getActor() == null || e.getActor().getAttributes() == null) {
            return null;
        }
        Map<String, String> attrs = e.getActor().getAttributes();
        Map<String, String> labels = new java.util.HashMap<>(attrs);
        EVENT_KEYS.forEach(labels::remove);
        return new ContainerInfo(e.getId(), attrs.getOrDefault("name", e.getId()),
                attrs.getOrDefault("image", e.getFrom() == null ? "" : e.getFrom()), labels, "", "json-file", running);
    }

    private void closeSubscription() {
        Closeable s = subscription;
        subscription = null;
        if (s != null) {
            try {
                s.close();
            } catch (Exception ignored) {
                // the stream is already broken
            }
        }
    }

    public void stop() {
        running = false;
        closeSubscription();
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The agent's own container id, when it runs in one (from /proc/self/mountinfo), else empty. */
    public static String selfContainerId() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/mountinfo"))) {
                // inside a container, Docker bind-mounts <data-root>/containers/<id>/hostname on /etc/hostname
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("/containers/([0-9a-f]{64})/hostname /etc/hostname ").matcher(line);
                if (m.find()) {
                    return m.group(1);
                }
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // not on Linux or not readable: not in a container as far as we can tell
        }
        return "";
    }
}
