package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Logs whose source is gone, with Elasticsearch down and the agent killed (SIGKILL): a removed
 * {@code --rm} container, rotation deleting files the agent holds, and a spool too small on
 * purpose. Uses this environment's own Elasticsearch ({@code LOGFERRY_TEST_ES_CTL} stops and
 * starts it) and the real Docker engine.
 */
class SpoolIT {
    @TempDir
    Path dir;
    private AgentProcess agent;
    private DockerRun docker;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (docker != null) {
            docker.close();
        }
        es("start");                                       // whatever happened, the next test has its Elasticsearch
    }

    private static void es(String action) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(TestEnv.esCtl(), action).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("es-ctl " + action).isTrue();
        assertThat(p.exitValue()).as("es-ctl " + action + ": " + out).isZero();
    }

    /**
     * Starts the agent and has it ship one line of the test's data stream, so that its template is
     * installed before Elasticsearch goes away (an agent waits for the template before it tails).
     */
    private void agentWarmedUp(String run, String extraYaml) throws Exception {
        agent = new AgentProcess(dir, run, "logferry.test=" + run, extraYaml, Map.of());
        agent.start();
        docker = new DockerRun();
        docker.run(run + "-warm", Map.of("logferry.test", run), "echo 'w out 1'");
        Es es = new Es(TestEnv.esUrl());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count("logs-docker-" + run) >= 1);
    }

    private List<JsonNode> shipped(String run, long atLeast) {
        Es es = new Es(TestEnv.esUrl());
        String index = "logs-docker-" + run;
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= atLeast);
        return es.all(index, "message", "stream");
    }

    private static List<JsonNode> tagged(List<JsonNode> docs, String tag) {
        return docs.stream().filter(d -> d.path("message").asText().startsWith(tag + " ")).toList();
    }

    @Test
    void aRemovedContainersLinesSurviveSigkillWhileElasticsearchIsDown() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("rm");
        agentWarmedUp(run, "");
        es("stop");
        String id = docker.run(run + "-gone", Map.of("logferry.test", run), Containers.numbered("a", 500, false), true, Map.of());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> !docker.exists(id));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> agent.metric("logferry_spool_files") >= 1);
        long spooled = agent.metric("logferry_spooled_bytes_total");
        agent.kill();
        assertThat(spoolFiles()).as("segments on disk after SIGKILL").isNotEmpty();

        es("start");
        agent.start();
        List<JsonNode> docs = tagged(shipped(run, 501), "a");
        Tally.report("--rm container removed, Elasticsearch down, SIGKILL", started, Map.of("a", 500), Tally.messages(docs));
        Containers.assertExactlyOnce(docs, Map.of("a", 500), false);
        assertThat(agent.output()).contains("resuming from the spool");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> agent.metric("logferry_spool_files") == 0 && spoolFiles().isEmpty());
        System.out.printf("[fault-scenario] --rm: %d bytes spooled before the kill; the spool is empty once acknowledged%n", spooled);
    }

    @Test
    void spooledBytesOfAContainerTheNewConfigExcludesAreSweptCountedAndReported() throws Exception {
        String run = TestEnv.uniqueName("sweep");
        agentWarmedUp(run, "");
        es("stop");
        String id = docker.run(run + "-gone", Map.of("logferry.test", run, "sweep", "me"), Containers.numbered("s", 300, false), true,
                Map.of());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> !docker.exists(id));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> agent.metric("logferry_spool_files") >= 1);
        agent.kill();
        assertThat(spoolFiles()).as("segments on disk after SIGKILL").isNotEmpty();
        long spooled = spooledLogBytes();                  // (logferry_spool_bytes counts the blocks they take)

        // the operator's new config no longer ships that container: its spooled bytes can never be shipped
        String yaml = Files.readString(agent.configFile());
        Files.writeString(agent.configFile(), yaml.replace("include_labels: [\"logferry.test=" + run + "\"]",
                "include_labels: [\"logferry.test=" + run + "\"]\n  exclude_labels: [\"sweep=me\"]"));
        es("start");
        agent.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> agent.metric("logferry_spool_lost_bytes_total{reason=\"not_shipped\"}") > 0);
        long lost = agent.metric("logferry_spool_lost_bytes_total{reason=\"not_shipped\"}");
        System.out.printf("[fault-scenario] spool sweep: %d bytes spooled, %d counted not_shipped at the restart%n", spooled, lost);
        assertThat(lost).as("every spooled byte counted").isEqualTo(spooled);
        assertThat(agent.metric("logferry_spool_bytes")).isZero();
        assertThat(spoolFiles()).as("segments on disk after the sweep").isEmpty();
        assertThat(agent.output()).contains("LOST: container " + id.substring(0, 12)).contains("not shipped");
        assertThat(new Es(TestEnv.esUrl()).count("logs-docker-" + run)).as("only the warm-up line").isEqualTo(1);
    }

    /** Runs a command (mount, umount) and fails the test with its output when it fails. */
    private static void sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    @Test
    void aReadOnlySpoolDuringDockerRmIsRetriedOnceWritableAndNothingIsLostAcrossSigkill() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("ro");
        agentWarmedUp(run, "");
        Path spool = Files.createDirectories(dir.resolve("spool"));
        es("stop");
        // the spool's volume turns read-only (as root, permissions would not stop the agent: a read-only bind mount does)
        sh("mount", "--bind", spool.toString(), spool.toString());
        boolean mounted = true;
        try {
            sh("mount", "-o", "remount,bind,ro", spool.toString());
            String id = docker.run(run + "-gone", Map.of("logferry.test", run), Containers.numbered("o", 500, false), true, Map.of());
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> !docker.exists(id));
            await("the spool's failure on /health").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                    .until(() -> String.valueOf(agent.get("/health")).contains("cannot be written"));
            assertThat(spoolFiles()).as("nothing could be written").isEmpty();
            sh("umount", spool.toString());
            mounted = false;
        } finally {
            if (mounted) {
                sh("umount", spool.toString());
            }
        }
        // writable again: the copy that failed is tried again (every 10 s) and goes in; only then is /health clear of it
        await("the copy retried").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> agent.metric("logferry_spool_files") >= 1 && !String.valueOf(agent.get("/health")).contains("cannot be written"));
        agent.kill();

        es("start");
        agent.start();
        List<JsonNode> docs = tagged(shipped(run, 501), "o");
        Tally.report("--rm container removed while the spool was read-only, then writable, Elasticsearch down, SIGKILL", started,
                Map.of("o", 500), Tally.messages(docs));
        Containers.assertExactlyOnce(docs, Map.of("o", 500), false);
        assertThat(agent.output()).contains("Spool: spool " + spool + ": writing bytes 0-").contains("spool " + spool + " works again")
                .contains("resuming from the spool");
    }

    @Test
    void rotationDeletingHeldFilesLosesNothingAcrossSigkillWhileElasticsearchIsDown() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("rot");
        int limit = 4;
        agentWarmedUp(run, "limits:\n  held_files_per_container: " + limit + "\n");
        es("stop");
        AtomicInteger maxDeleted = new AtomicInteger();
        AtomicInteger maxOpen = new AtomicInteger();
        String id = docker.run(run + "-rot", Map.of("logferry.test", run),
                Tally.paced("r", 20, 1000, "0.2"), false, Map.of("max-size", "50k", "max-file", "2"));
        Path logs = TestEnv.containersPath().resolve(id);
        // the container prints for about 5 s (1,000 lines, about one rotation, every 0.2 s); rotation deletes files
        // the agent holds while it cannot ship
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> {
                    sampleOpenLogs(id, maxOpen, maxDeleted);
                    return lastLine(logs).contains("r out 20000") && agent.metric("logferry_spool_files") > 0;
                });
        for (int i = 0; i < 20; i++) {
            sampleOpenLogs(id, maxOpen, maxDeleted);
            Thread.sleep(50);                             // sampling the agent's open files for one more second
        }
        long spooled = agent.metric("logferry_spooled_bytes_total");
        long lostBefore = agent.metric("logferry_log_lost_bytes_total{container=\"" + run + "-rot\"}");
        agent.kill();

        es("start");
        agent.start();
        List<JsonNode> docs = tagged(shipped(run, 20_001), "r");
        Tally.report("rotation max-size=50k max-file=2 deleting held files, Elasticsearch down, SIGKILL", started,
                Map.of("r", 20_000), Tally.messages(docs));
        System.out.printf("[fault-scenario] rotation: %d bytes spooled before the kill; at most %d rotated log files held open"
                + " deleted, %d log files open (limit %d beyond the one read)%n", spooled, maxDeleted.get(), maxOpen.get(), limit);
        Containers.assertExactlyOnce(docs, Map.of("r", 20_000), false);
        assertThat(lostBefore).as("bytes reported lost").isLessThanOrEqualTo(0);
        assertThat(maxDeleted.get()).as("deleted log files held open at once").isLessThanOrEqualTo(limit);
    }

    @Test
    void aChainWhoseFirstLineIsOver64KiBResumesInOrderAcrossSigkill() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("wide");
        agentWarmedUp(run, "");
        es("stop");
        // 16,000 control bytes, each escaped by json-file as \u0001: a first line of ~96 KiB. The resume order once came
        // from the first line's time, read within 64 KiB only: such a file sorted first (time 0) whatever its place
        String script = "head -c 16000 /dev/zero | tr '\\000' '\\001'; echo; " + Tally.paced("x", 10, 500, "0.2");
        // max-file=4: Docker deletes the first files (the wide one among them) while the container prints, and keeps the last
        String id = docker.run(run + "-wide", Map.of("logferry.test", run), script, false, Map.of("max-size", "50k", "max-file", "4"));
        Path logs = TestEnv.containersPath().resolve(id);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> lastLine(logs).contains("x out 5000") && agent.metric("logferry_spool_files") > 0);
        // the kill comes once the agent has copied what Docker deleted: a kill between a deletion and its copy loses that
        // file (reported LOST with its range, delivery.md), which is not what this test is about. Settled: the spool's
        // count unchanged over two polls a second apart
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> {
                    long now = agent.metric("logferry_spooled_bytes_total");
                    boolean settled = now == last[0];
                    last[0] = now;
                    return settled;
                });
        assertThat(Files.size(TestEnv.containersPath().resolve(id).resolve(id + "-json.log")) > 0).isTrue();
        agent.kill();
        // (the warm-up line is "w out 1": this container's lines are tagged x)

        es("start");
        agent.start();
        List<JsonNode> all = shipped(run, 5_002);
        List<JsonNode> docs = tagged(all, "x");
        Tally.report("first line of ~96 KiB, max-size=50k max-file=4, Elasticsearch down, SIGKILL", started, Map.of("x", 5_000),
                Tally.messages(docs));
        Containers.assertExactlyOnce(docs, Map.of("x", 5_000), false);
        assertThat(all).as("the wide line once, the warm-up line once, the 5,000 once").hasSize(5_002);
        assertThat(agent.output()).doesNotContain("LOST:");
    }

    @Test
    void beyondSpoolMaxBytesTheExcessIsReportedLostAndTheRestArrivesOnce() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("full");
        agentWarmedUp(run, "spool:\n  max_bytes: 20000\n");
        es("stop");
        String id = docker.run(run + "-big", Map.of("logferry.test", run), Containers.numbered("f", 2_000, false), true, Map.of());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> !docker.exists(id));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> agent.metric("logferry_spool_lost_bytes_total{reason=\"spool_limit\"}") > 0);
        long lostBytes = agent.metric("logferry_spool_lost_bytes_total{reason=\"spool_limit\"}");
        long spooled = agent.metric("logferry_spooled_bytes_total");
        Matcher lost = Pattern.compile("LOST: .*(the spool is full|its share of the spool is used) \\(spool.max_bytes 20000, \\d+ bytes spooled\\);"
                + " bytes (\\d+)-(\\d+) ")
                .matcher(agent.output());
        assertThat(lost.find()).as("a LOST: line with the byte range:\n" + agent.output()).isTrue();
        assertThat(Long.parseLong(lost.group(3)) - Long.parseLong(lost.group(2))).isEqualTo(lostBytes);
        agent.kill();

        es("start");
        agent.start();
        Es es = new Es(TestEnv.esUrl());
        String index = "logs-docker-" + run;
        // what the spool held arrives; then nothing more comes
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> agent.metric("logferry_spool_files") == 0 && es.count(index) > 1);
        es.request("POST", "/" + index + "/_refresh", "");
        List<JsonNode> docs = tagged(es.all(index, "message", "stream"), "f");
        TreeSet<Integer> numbers = new TreeSet<>();
        for (JsonNode d : docs) {
            numbers.add(Integer.parseInt(d.path("message").asText().substring(6)));
        }
        int kept = numbers.isEmpty() ? 0 : numbers.last();
        Tally.report("spool.max_bytes 20000 reached, Elasticsearch down, SIGKILL (lines 1-" + kept + " spooled)", started,
                Map.of("f", kept), Tally.messages(docs));
        System.out.printf("[fault-scenario] spool limit: %d bytes spooled, %d bytes reported lost (LOST: bytes %s-%s), lines 1-%d of 2000 kept%n",
                spooled, lostBytes, lost.group(2), lost.group(3), kept);
        assertThat(kept).isBetween(100, 1_999);
        Containers.assertExactlyOnce(docs, Map.of("f", kept), false);
    }

    /**
     * Issue 24's deterministic scenario: Elasticsearch away, about 100 lines/s into
     * {@code max-size=100k}, {@code max-file=2}; the agent reads everything, is killed 25 s in and
     * started again 10 s later. The rotated file that was on disk at the kill (read, not
     * acknowledged) is deleted by Docker during the downtime: it was copied to the spool when
     * Docker rotated it, and the registry names the files read (from the first read), so the
     * restart reads them in their order. 4,000 lines arrive exactly once and nothing is LOST.
     */
    @Test
    void killedWhileElasticsearchIsAwayWhatWasReadAndThenDeletedByDockerArrivesOnce() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("kill");
        agentWarmedUp(run, "");
        es("stop");
        String id = docker.run(run + "-k", Map.of("logferry.test", run), Tally.paced("k", 400, 10, "0.1"), false,
                Map.of("max-size", "100k", "max-file", "2"));
        Instant containerStarted = Instant.now();
        Path registry = agent.registryFile();
        // the registry names the container from its first read, although nothing is acknowledged
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> Files.exists(registry) && Files.readString(registry).contains(id));
        // the kill 6 s after Docker's first rotation (about 20 s in on a 2-core machine, whose ~85 lines/s fill a 100k file in
        // ~14 s): the rotated file (read, not acknowledged) is on disk at the kill and Docker deletes it during the 10 s down;
        // the file being written at the kill lives two rotations, long enough for the restarted agent (a few seconds to start)
        Path rotated = TestEnv.containersPath().resolve(id).resolve(id + "-json.log.1");
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .alias("Docker's first rotation (expected ~14 s in; 120 s is a hang guard)").until(() -> Files.exists(rotated));
        Instant firstRotation = Instant.now();
        Thread.sleep(6_000);                              // the scenario's timing, not a synchronisation
        assertThat(agent.metric("logferry_spool_files")).as("the rotated file, read and unacknowledged, is in the spool").isEqualTo(1);
        long spooledBeforeKill = agent.metric("logferry_spooled_bytes_total");
        String registryAtKill = Files.readString(registry);
        agent.kill();
        Thread.sleep(10_000);                             // the scenario's 10 s downtime, during which Docker rotates and deletes
        agent.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> agent.output().contains("resuming from the spool"));
        es("start");
        List<JsonNode> docs = tagged(shipped(run, 4_001), "k");
        Tally.report("~100 lines/s, max-size=100k max-file=2, Elasticsearch away, SIGKILL 6 s after the first rotation, restart 10 s later", started,
                Map.of("k", 4_000), Tally.messages(docs));
        System.out.printf("[fault-scenario] kill while Elasticsearch is away: first rotation %d ms after the container started;"
                + " %d bytes spooled before the kill; registry at the kill: %s%n", Duration.between(containerStarted, firstRotation).toMillis(),
                spooledBeforeKill, registryAtKill.replaceAll("\\s+", " "));
        Containers.assertExactlyOnce(docs, Map.of("k", 4_000), false);
        assertThat(registryAtKill).as("the chain of files read is in the registry before any acknowledgement").contains("\"read\"");
        assertThat(agent.output()).as("no loss reported").doesNotContain("LOST:");
        docker.remove(id);
    }

    /**
     * What copying rotated files costs while Elasticsearch keeps up: the rotated file's bytes are
     * acknowledged within the grace, so nothing should be copied. Measured and printed (a slow
     * moment of a shared machine may copy one file: not asserted); every line arrives once.
     */
    @Test
    void whileElasticsearchKeepsUpRotatedFilesAreAcknowledgedNotCopied() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("up");
        agentWarmedUp(run, "");
        String id = docker.run(run + "-u", Map.of("logferry.test", run), Tally.paced("u", 300, 10, "0.05"), false,
                Map.of("max-size", "100k", "max-file", "2"));
        List<JsonNode> docs = tagged(shipped(run, 3_001), "u");
        Tally.report("~200 lines/s, max-size=100k max-file=2, Elasticsearch up", started, Map.of("u", 3_000), Tally.messages(docs));
        long copies = agent.output().lines().filter(l -> l.contains("copied to the spool: Docker rotated the file")).count();
        System.out.printf("[fault-scenario] Elasticsearch keeping up: %d rotated file(s) copied, %d bytes copied to the spool%n",
                copies, agent.metric("logferry_spooled_bytes_total"));
        Containers.assertExactlyOnce(docs, Map.of("u", 3_000), false);
        assertThat(agent.output()).doesNotContain("LOST:");
        docker.remove(id);
    }

    private List<Path> spoolFiles() throws IOException {
        Path spool = dir.resolve("spool");
        if (!Files.isDirectory(spool)) {
            return List.of();
        }
        try (var s = Files.walk(spool)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".seg")).toList();
        }
    }

    /** The log bytes the spool's segments hold: each file's size less its header line. */
    private long spooledLogBytes() throws IOException {
        long n = 0;
        for (Path p : spoolFiles()) {
            byte[] all = Files.readAllBytes(p);
            int nl = 0;
            while (all[nl] != '\n') {
                nl++;
            }
            n += all.length - nl - 1;
        }
        return n;
    }

    private static String lastLine(Path logs) {
        try (var s = Files.list(logs)) {
            Path current = s.filter(p -> p.getFileName().toString().endsWith("-json.log")).findFirst().orElse(null);
            if (current == null) {
                return "";
            }
            List<String> lines = Files.readAllLines(current);
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        } catch (IOException e) {
            return "";
        }
    }

    /** Counts the agent's open descriptors on the container's log files, and those on files Docker deleted. */
    private void sampleOpenLogs(String id, AtomicInteger maxOpen, AtomicInteger maxDeleted) {
        int open = 0;
        int deleted = 0;
        try (var s = Files.list(Path.of("/proc", Long.toString(agent.pid()), "fd"))) {
            for (Path fd : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue;
                }
                if (target.contains(id + "-json.log")) {
                    open++;
                    if (target.endsWith("(deleted)")) {
                        deleted++;
                    }
                }
            }
        } catch (IOException e) {
            return;
        }
        maxOpen.accumulateAndGet(open, Math::max);
        maxDeleted.accumulateAndGet(deleted, Math::max);
    }
}
