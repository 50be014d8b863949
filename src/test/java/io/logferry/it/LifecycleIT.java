package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Container lifecycles where shippers lose data: containers that print and exit at once (some
 * removed with --rm), containers that ran while the agent was down, and many containers at once.
 */
class LifecycleIT {
    @TempDir
    Path dir;
    private final DockerRun docker = new DockerRun();
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        docker.close();
    }

    private static Map<String, String> labels(String run) {
        return Map.of("logferry.test", run);
    }

    @Test
    void fiftyShortLivedContainersSomeRemovedAtOnceShipEveryLine() throws Exception {
        String run = TestEnv.uniqueName("short");
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.get("/health") != null);
        Map<String, Integer> expected = new HashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> started = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String tag = "s" + i;
            expected.put(tag, 200);
            boolean rm = i % 2 == 0;
            started.add(pool.submit(() -> docker.run(run + "-" + tag, labels(run), Containers.numbered(tag, 200, false), rm, Map.of())));
        }
        for (Future<String> f : started) {
            f.get();
        }
        pool.shutdown();
        Es es = new Es(TestEnv.esUrl());
        String index = "logs-docker-" + run;
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 10_000);
        Containers.assertExactlyOnce(es.all(index, "message", "stream"), expected, false);
    }

    @Test
    void containersThatRanWhileTheAgentWasDownAreShipped() throws Exception {
        String run = TestEnv.uniqueName("down");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        // a first run ships one container and writes its registry
        agent.start();
        String first = docker.run(run + "-first", labels(run), Containers.numbered("first", 100, false));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> es.count(index) >= 100);
        assertThat(agent.terminate()).isZero();
        assertThat(Files.readString(agent.registryFile())).contains(first);

        Map<String, Integer> expected = new HashMap<>(Map.of("first", 100));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(docker.run(run + "-d" + i, labels(run), Containers.numbered("d" + i, 500, true)));
            expected.put("d" + i, 500);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(docker::exited));

        agent.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 100 + 5 * 1000);
        Containers.assertExactlyOnce(es.all(index, "message", "stream").stream()
                .filter(d -> !d.path("message").asText().startsWith("first")).toList(), withoutFirst(expected), true);
        Containers.assertExactlyOnce(es.all(index, "message", "stream").stream()
                .filter(d -> d.path("message").asText().startsWith("first")).toList(), Map.of("first", 100), false);
    }

    private static Map<String, Integer> withoutFirst(Map<String, Integer> m) {
        Map<String, Integer> out = new HashMap<>(m);
        out.remove("first");
        return out;
    }

    @Test
    void twoHundredContainersAtOnceAndResourcesReturnToBaseline() throws Exception {
        String run = TestEnv.uniqueName("many");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.get("/health") != null);
        // the baseline is the agent at rest after it has tailed one container: the pools that
        // serve tailers (virtual-thread carriers, the rotation watch) exist from then on
        docker.run(run + "-warmup", labels(run), "echo 'warm out 1'");
        await().atMost(Duration.ofSeconds(60)).until(() -> es.count(index) >= 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metric("logferry_tailers_active") == 0);
        long baseThreads = threads(agent.pid());
        long baseFds = fds(agent.pid());

        Map<String, Integer> expected = new HashMap<>(Map.of("warm", 1));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> started = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String tag = "m" + i;
            expected.put(tag, 100);
            started.add(pool.submit(() -> docker.run(run + "-" + tag, labels(run), Containers.numbered(tag, 100, false) + "; sleep 2")));
        }
        List<String> ids = new ArrayList<>();
        for (Future<String> f : started) {
            ids.add(f.get());
        }
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 20_001);
        Containers.assertExactlyOnce(es.all(index, "message", "stream"), expected, false);

        List<Future<?>> removed = new ArrayList<>();
        for (String id : ids) {
            removed.add(pool.submit(() -> docker.remove(id)));
        }
        for (Future<?> f : removed) {
            f.get();
        }
        pool.shutdown();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> agent.metric("logferry_tailers_active") == 0);
        // tailers are virtual threads; the carrier threads the JDK added while they blocked on
        // file reads retire after their 30 s keep-alive
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            assertThat(threads(agent.pid())).as("agent threads: %s", threadNames(agent.pid())).isLessThanOrEqualTo(baseThreads + 2);
            assertThat(fds(agent.pid())).as("agent open files").isLessThanOrEqualTo(baseFds + 4);
        });
        System.out.printf("200 containers: threads %d at baseline, %d after; open files %d at baseline, %d after%n",
                baseThreads, threads(agent.pid()), baseFds, fds(agent.pid()));
    }

    static long threads(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Threads:"))
                .mapToLong(l -> Long.parseLong(l.substring(8).trim())).findFirst().orElseThrow();
    }

    static List<String> threadNames(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return s.map(t -> {
                try {
                    return Files.readString(t.resolve("comm")).trim();
                } catch (IOException e) {
                    return "?";
                }
            }).sorted().toList();
        }
    }

    static long fds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }
}
