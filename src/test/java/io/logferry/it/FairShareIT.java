package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One flooding container must not delay the others (issue 18). First a container prints lines as
 * fast as it can, alone: the agent's throughput on it is measured (and again at the end, with a
 * third flood: the mean of the two is the rate alone). Then a second flood, sized to
 * keep the agent busy for about 17 s, and beside it a quiet container printing one numbered line
 * every 0.5 s (into its own data stream, polled every 250 ms): each quiet line's delay from
 * Docker's timestamp to the first poll that finds it is measured. The quiet p99 must stay under
 * 4 s (the aim is 2 s; CI machines are loaded), the flood must keep at least 0.9 of its throughput
 * alone, and every line of the three containers must be there exactly once.
 *
 * <p>{@code -Dfairshare.lines=N} sets the first flood's lines (100000). Run against another jar
 * with {@code -Dlogferry.jar=...} to measure it before the change: the numbers are printed before
 * the assertions.
 */
class FairShareIT {
    private static final int QUIET_LINES = 32;
    private static final long QUIET_P99_LIMIT_MS = 4000;

    @TempDir
    Path dir;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private AgentProcess agent;
    private ScheduledExecutorService poller;

    @AfterEach
    void cleanUp() throws Exception {
        if (poller != null) {
            poller.shutdownNow();
        }
        if (agent != null) {
            agent.close();
        }
        for (GenericContainer<?> c : containers) {
            c.stop();
        }
    }

    @Test
    void aQuietContainersLinesAreSearchableWithinSecondsWhileAFloodShipsAtFullSpeed() throws Exception {
        Instant started = Instant.now();
        int aloneLines = Integer.getInteger("fairshare.lines", 100_000);
        String run = TestEnv.uniqueName("fair");
        String floodIndex = "logs-docker-" + run;
        String quietIndex = "logs-quiet-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> agent.metric("logferry_events_acked_total") >= 0);

        // 1. the flood alone (again at the end: the mean of the two is its rate alone, on a machine whose load drifts)
        double alone1 = flood("f1", aloneLines, run, 0);
        // 2. the flood again, for about 25 s, with a quiet neighbour
        int withLines = (int) Math.min(3_000_000, Math.max(aloneLines, alone1 * 17));
        long base = aloneLines;
        Map<Integer, Long> firstSeenMs = new ConcurrentHashMap<>();
        Map<Integer, Long> dockerMs = new ConcurrentHashMap<>();
        GenericContainer<?> f2 = Containers.shell(run + "-f2", Map.of("logferry.test", run),
                Containers.numbered("f2", withLines, false) + "; sleep 3600");
        containers.add(f2);
        f2.start();
        long[] span = new long[2];
        long from = underWay(base);
        span[0] = System.nanoTime();
        GenericContainer<?> quiet = Containers.shell(run + "-q", Map.of("logferry.test", run, "logferry.dataset", "quiet"),
                "i=1; while [ $i -le " + QUIET_LINES + " ]; do echo \"q out $i\"; i=$((i+1)); sleep 0.5; done; sleep 3600");
        containers.add(quiet);
        quiet.start();
        poller = Executors.newSingleThreadScheduledExecutor();
        poller.scheduleWithFixedDelay(() -> {
            try {
                long now = System.currentTimeMillis();
                for (JsonNode d : es.all(quietIndex, "message", "@timestamp")) {
                    String m = d.path("message").asText();
                    if (m.startsWith("q out ")) {
                        int n = Integer.parseInt(m.substring(6));
                        firstSeenMs.putIfAbsent(n, now);
                        dockerMs.putIfAbsent(n, Instant.parse(d.path("@timestamp").asText()).toEpochMilli());
                    }
                }
            } catch (RuntimeException e) {
                // not there yet
            }
        }, 0, 250, TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.metric("logferry_events_acked_total") >= base + withLines);
        span[1] = System.nanoTime();
        await().atMost(Duration.ofSeconds(60)).until(() -> firstSeenMs.size() == QUIET_LINES);
        poller.shutdownNow();
        // the flood's rate from the moment it was under way to its last line (the quiet lines are 40 of them)
        double with = (base + withLines - from) / ((span[1] - span[0]) / 1e9);
        // 3. the flood alone again, the quiet container done
        double alone2 = flood("f3", aloneLines, run, base + withLines + QUIET_LINES);
        double alone = (alone1 + alone2) / 2;

        List<Long> delays = new ArrayList<>();
        for (int n = 1; n <= QUIET_LINES; n++) {
            delays.add(firstSeenMs.get(n) - dockerMs.get(n));
        }
        List<Long> sorted = delays.stream().sorted().toList();
        long p50 = sorted.get(sorted.size() / 2);
        long p99 = sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
        long max = sorted.get(sorted.size() - 1);
        String line = String.format("fair share: quiet line delay p50 %d ms, p99 %d ms, max %d ms (%d lines, every 0.5 s, polled every 250 ms);"
                        + " flood %.0f lines/s alone (mean of %.0f before and %.0f after, %d lines each), %.0f lines/s beside the quiet one (%d lines, ratio %.2f); jar %s; delays in order %s",
                p50, p99, max, QUIET_LINES, alone, alone1, alone2, aloneLines, with, withLines, with / alone, AgentProcess.jar(), delays);
        System.out.println("[fair-share] " + line);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "fair-share.txt"), line + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);

        List<JsonNode> docs = new ArrayList<>(es.all(floodIndex, "message", "stream"));
        docs.addAll(es.all(quietIndex, "message", "stream"));
        Map<String, Integer> sent = Map.of("f1", aloneLines, "f2", withLines, "f3", aloneLines, "q", QUIET_LINES);
        Tally.report("fair share", started, sent, Tally.messages(docs));
        Containers.assertExactlyOnce(docs, sent, false);
        assertThat(p99).as("p99 of the quiet container's delay, ms").isLessThan(QUIET_P99_LIMIT_MS);
        assertThat(with / alone).as("the flood's throughput beside a quiet container, over its throughput alone").isGreaterThanOrEqualTo(0.9);
    }

    /** Starts a container printing {@code lines} numbered lines at once; returns the agent's lines/s on it. */
    private double flood(String tag, int lines, String run, long before) {
        GenericContainer<?> c = Containers.shell(run + "-" + tag, Map.of("logferry.test", run),
                Containers.numbered(tag, lines, false) + "; sleep 3600");
        containers.add(c);
        c.start();
        long from = underWay(before);
        long t0 = System.nanoTime();
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.metric("logferry_events_acked_total") >= before + lines);
        return (before + lines - from) / ((System.nanoTime() - t0) / 1e9);
    }

    /** Waits until the agent has acknowledged more than 1000 lines beyond {@code before}; returns the count it saw then. */
    private long underWay(long before) {
        long[] seen = new long[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> (seen[0] = agent.metric("logferry_events_acked_total")) > before + 1000);
        return seen[0];
    }
}
