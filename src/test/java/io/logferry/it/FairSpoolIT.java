package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 24's fair spool budget against the real engine and Elasticsearch: {@code spool.max_bytes}
 * 5 MB, {@code limits.held_bytes_total} 10 MB, every bulk request held back by the fault proxy
 * (nothing is acknowledged). A victim ({@code max-size=100k}, {@code max-file=2}) prints 5,000
 * numbered lines over ~20 s: Docker rotates and deletes files the agent has read and not seen
 * acknowledged, so their bytes must go to the spool. Beside it a hog ({@code logferry.max_rate=1},
 * ~30 MB into {@code max-size=1m} files) is read at one line a second: its held files beyond
 * {@code limits.held_files_per_container} go to the spool, far more than the spool holds. First
 * come, first served, the hog filled the spool and the victim's copies were refused: after a
 * SIGKILL its deleted files were gone. With a fair share the hog is stopped at its share (its loss
 * is its own, reported {@code LOST:} and counted), the victim's copies go in, and after the kill
 * and a restart with Elasticsearch let through it has 5,000 / 5,000 exactly once.
 */
class FairSpoolIT {
    private static final long SPOOL_MAX = 5L * 1024 * 1024;
    private static final int VICTIM_LINES = 5_000;

    @TempDir
    Path dir;
    private AgentProcess agent;
    private DockerRun docker;
    private FaultProxy proxy;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (docker != null) {
            docker.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aHogBeyondItsShareOfTheSpoolLosesOnlyItsOwnBytesAndTheVictimsLinesArriveOnce() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("fsp");
        proxy = new FaultProxy(TestEnv.esUrl(), Integer.MAX_VALUE, Integer.MAX_VALUE).holdBulk(true);
        agent = new AgentProcess(dir, run, "logferry.test=" + run,
                "spool:\n  max_bytes: " + SPOOL_MAX + "\nlimits:\n  held_bytes_total: " + 10L * 1024 * 1024 + "\n",
                Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", proxy.url()));
        agent.start();
        docker = new DockerRun();
        // the victim first: ~20 s of lines, 100 chunks of 50, about four rotations of a 100k file
        String victim = docker.run(run + "-v", Map.of("logferry.test", run), Tally.paced("v", 100, 50, "0.2"), false,
                Map.of("max-size", "100k", "max-file", "2"));
        Path registry = agent.registryFile();
        await("the victim's first read").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> Files.exists(registry) && Files.readString(registry).contains(victim));
        // the hog: ~30 MB at once into 1 MB files (Docker keeps them all), read at one line a second
        String hog = docker.run(run + "-h", Map.of("logferry.test", run, "logferry.max_rate", "1"),
                "yes \"h $(head -c 240 /dev/zero | tr '\\000' x)\" | head -n 100000; sleep 3600", false,
                Map.of("max-size", "1m", "max-file", "40"));
        Path victimLogs = TestEnv.containersPath().resolve(victim);
        await("the victim's last line written, the hog's loss reported").atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> lastLine(victimLogs, victim).contains("v out " + VICTIM_LINES)
                        && agent.metric("logferry_spool_lost_bytes_total{reason=\"spool_limit\"}") > 0);
        // the kill comes once the victim's copies have settled: the spool's copied bytes unchanged over two polls 2 s apart
        long[] last = {-1};
        await("the copies settled").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> {
                    long now = agent.metric("logferry_spooled_bytes_total");
                    boolean settled = now == last[0];
                    last[0] = now;
                    return settled;
                });
        long spoolBytes = agent.metric("logferry_spool_bytes");
        long spooled = agent.metric("logferry_spooled_bytes_total");
        long hogLost = agent.metric("logferry_spool_lost_bytes_total{reason=\"spool_limit\"}");
        long hogLosses = agent.metric("logferry_log_losses_total{container=\"" + run + "-h\"}");
        long held = proxy.held.get();
        String before = agent.output();
        agent.kill();

        proxy.holdBulk(false);                             // Elasticsearch let through
        agent.start();
        List<JsonNode> all = shippedAtLeast(run, VICTIM_LINES);
        List<JsonNode> docs = all.stream().filter(d -> d.path("message").asText().startsWith("v ")).toList();
        Tally.report("fair spool: a hog (max_rate=1, ~30 MB) beside a victim (max-size=100k, 5,000 lines), spool.max_bytes 5 MB,"
                + " bulk held back, SIGKILL, restart with Elasticsearch let through", started, Map.of("v", VICTIM_LINES), Tally.messages(docs));
        long hogLostLines = before.lines().filter(l -> l.contains("LOST: " + run + "-h ")).count();
        System.out.printf("[fair-spool] before the kill: spool %d bytes occupied (max %d), %d bytes copied in, %d bulk requests held"
                        + " back; the hog: %d bytes lost at the spool (%d losses counted, %d LOST lines); victim LOST lines: %d%n",
                spoolBytes, SPOOL_MAX, spooled, held, hogLost, hogLosses, hogLostLines,
                agent.output().lines().filter(l -> l.contains("LOST: " + run + "-v ")).count());
        Containers.assertExactlyOnce(docs, Map.of("v", VICTIM_LINES), false);
        assertThat(spoolBytes).as("the spool within spool.max_bytes").isLessThanOrEqualTo(SPOOL_MAX);
        assertThat(hogLost).as("the hog's loss counted").isPositive();
        assertThat(hogLostLines).as("the hog's loss reported").isPositive();
        assertThat(hogLosses).as("each loss counted once, as reported").isEqualTo(hogLostLines);
        assertThat(agent.output()).as("nothing of the victim lost").doesNotContain("LOST: " + run + "-v ");
        assertThat(before).as("the hog's own copies went in until its share was used").contains("copied to the spool")
                .contains("moved to the spool");
        docker.remove(hog);
        docker.remove(victim);
    }

    /**
     * Waits until the victim's lines are all searchable (the hog's come one a second meanwhile), or their count has not
     * moved for 20 s (some are missing: the assertion that follows names them); returns the index's documents.
     */
    private List<JsonNode> shippedAtLeast(String run, int victimLines) {
        Es es = new Es(TestEnv.esUrl());
        String index = "logs-docker-" + run;
        List<JsonNode>[] docs = new List[] {List.of()};
        long[] count = {-1};
        long[] movedAt = {System.nanoTime()};
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> {
                    try {
                        docs[0] = es.all(index, "message", "stream");
                    } catch (RuntimeException e) {
                        return false;
                    }
                    long n = docs[0].stream().filter(d -> d.path("message").asText().startsWith("v ")).count();
                    if (n != count[0]) {
                        count[0] = n;
                        movedAt[0] = System.nanoTime();
                    }
                    return n >= victimLines || (n > 0 && System.nanoTime() - movedAt[0] > 20_000_000_000L);
                });
        return docs[0];
    }

    private static String lastLine(Path logs, String id) {
        try {
            List<String> lines = Files.readAllLines(logs.resolve(id + "-json.log"));
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
