package io.logferry.docker;

import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventActor;
import io.logferry.model.ContainerInfo;
import io.logferry.retry.Backoff;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Discovery against an engine played by the test: events map to reports, and after a lost
 * connection the list reconciles what was missed (a die, a destroy), with backoff waits that
 * grow and start over once connected. No real waiting: the reconnect wait blocks on a permit.
 */
class DiscoveryTest {
    private final FakeEngine engine = new FakeEngine();
    private final BlockingQueue<String> reports = new LinkedBlockingQueue<>();
    private final BlockingQueue<Long> waits = new LinkedBlockingQueue<>();
    private final BlockingQueue<Boolean> permits = new LinkedBlockingQueue<>();
    private final Discovery discovery = new Discovery(engine, new Recorder(), new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30)),
            ms -> {
                waits.add(ms);
                permits.take();
            });

    @AfterEach
    void stop() {
        discovery.stop();
    }

    @Test
    void reportsTheListThenEventsAndReconcilesAfterAReconnect() throws Exception {
        engine.containers.put("a", info("a", true));
        engine.containers.put("b", info("b", true));
        engine.containers.put("c", info("c", true));
        discovery.start();
        assertThat(next()).isEqualTo("connected host-1");
        assertThat(Set.of(next(), next(), next())).containsExactlyInAnyOrder("present a running list", "present b running list",
                "present c running list");
        assertThat(next()).isEqualTo("listed [a, b, c]");

        engine.emit(event("die", "a"));
        assertThat(next()).isEqualTo("died a");
        engine.emit(event("destroy", "a"));
        assertThat(next()).isEqualTo("destroyed a");
        engine.containers.put("d", info("d", true));
        engine.emit(event("start", "d"));
        assertThat(next()).isEqualTo("present d running event");
        // created and gone before the inspect: the event describes it, as running
        engine.emit(event("create", "e").withEventActor(new EventActor().withAttributes(Map.of("name", "/e", "image", "busybox", "app", "x"))));
        assertThat(next()).isEqualTo("present e running event");
        engine.emit(event("exec_start", "d"));

        // the engine goes away; while it is gone b dies and c is removed
        engine.up = false;
        engine.end();
        assertThat(next()).isEqualTo("disconnected the Docker event stream ended");
        assertThat(waits.poll(5, TimeUnit.SECONDS)).isBetween(800L, 1200L);
        permits.add(true);
        assertThat(next()).isEqualTo("disconnected engine down");
        assertThat(waits.poll(5, TimeUnit.SECONDS)).as("the second wait doubles").isBetween(1600L, 2400L);
        engine.containers.remove("a");
        engine.containers.put("b", info("b", false));
        engine.containers.remove("c");
        engine.up = true;
        permits.add(true);

        assertThat(next()).isEqualTo("connected host-1");
        assertThat(Set.of(next(), next())).containsExactlyInAnyOrder("present b stopped list", "present d running list");
        assertThat(next()).as("c is missing from the list: removed while Docker was unreachable").isEqualTo("listed [b, d]");
        assertThat(engine.subscriptions).as("the broken subscription was closed, the new one is open").isEqualTo(1);

        engine.end();
        assertThat(next()).isEqualTo("disconnected the Docker event stream ended");
        assertThat(waits.poll(5, TimeUnit.SECONDS)).as("connected again: the waits start over").isBetween(800L, 1200L);
        assertThat(reports).isEmpty();
    }

    @Test
    void stopEndsTheThreadEvenDuringAReconnectWait() throws Exception {
        engine.up = false;
        discovery.start();
        assertThat(next()).isEqualTo("disconnected engine down");
        assertThat(waits.poll(5, TimeUnit.SECONDS)).isNotNull();
        discovery.stop();
        assertThat(reports.poll(200, TimeUnit.MILLISECONDS)).isNull();
    }

    private String next() throws InterruptedException {
        String r = reports.poll(5, TimeUnit.SECONDS);
        assertThat(r).as("a report within 5 s").isNotNull();
        return r;
    }

    private static ContainerInfo info(String id, boolean running) {
        return new ContainerInfo(id, "/" + id, "busybox", Map.of(), "/logs/" + id, "json-file", running);
    }

    private static Event event(String action, String id) {
        return new Event(action, id, "busybox", System.currentTimeMillis() / 1000).withAction(action);
    }

    private final class Recorder implements Discovery.Listener {
        @Override
        public void present(ContainerInfo c, boolean fromList) {
            reports.add("present " + c.id() + (c.running() ? " running" : " stopped") + (fromList ? " list" : " event"));
        }

        @Override
        public void died(String id) {
            reports.add("died " + id);
        }

        @Override
        public void destroyed(String id) {
            reports.add("destroyed " + id);
        }

        @Override
        public void listed(Set<String> ids) {
            reports.add("listed " + new java.util.TreeSet<>(ids));
        }

        @Override
        public void connected(String hostName) {
            reports.add("connected " + hostName);
        }

        @Override
        public void disconnected(String reason) {
            reports.add("disconnected " + reason);
        }
    }

    /** An engine in memory: {@code up} false makes every call fail as an unreachable daemon does. */
    private static final class FakeEngine implements Engine {
        final Map<String, ContainerInfo> containers = new ConcurrentHashMap<>();
        volatile boolean up = true;
        volatile int subscriptions;
        private volatile Consumer<Event> onEvent;
        private volatile Runnable onEnd;

        void emit(Event e) {
            onEvent.accept(e);
        }

        void end() {
            onEnd.run();
        }

        private void check() {
            if (!up) {
                throw new IllegalStateException("engine down");
            }
        }

        @Override
        public String hostName() {
            check();
            return "host-1";
        }

        @Override
        public synchronized Closeable events(long sinceSeconds, Consumer<Event> onEvent, Runnable onEnd) {
            check();
            this.onEvent = onEvent;
            this.onEnd = onEnd;
            subscriptions++;
            java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
            return () -> {
                synchronized (FakeEngine.this) {
                    if (open.getAndSet(false)) {
                        subscriptions--;
                    }
                }
            };
        }

        @Override
        public List<String> containerIds() {
            check();
            return List.copyOf(new java.util.TreeSet<>(containers.keySet()));
        }

        @Override
        public ContainerInfo inspect(String id) {
            check();
            return containers.get(id);
        }
    }
}
