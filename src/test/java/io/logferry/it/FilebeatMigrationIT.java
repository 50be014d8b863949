package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.migrate.FilebeatFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cutover from Filebeat: a container has written lines; a Filebeat registry in Filebeat's own
 * format (memlog: checkpoint, active.dat, log.json; the container input's state) says Filebeat's
 * acknowledgements ended after line {@value #K}, with the real file's path as Filebeat's container
 * sees it, its inode, device and the byte offset of that line's end. {@code logferry migrate
 * filebeat} writes logferry's registry; the agent started then ships lines K+1.. exactly once,
 * those the container writes after the cutover included, and none of lines 1..K.
 */
class FilebeatMigrationIT {
    private static final int FIRST = 300;
    private static final int TOTAL = 500;
    private static final int K = 120;
    private static final Pattern NUMBERED = Pattern.compile("^t out (\\d+)$");

    @TempDir
    Path dir;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        containers.forEach(GenericContainer::stop);
    }

    @Test
    void theAgentResumesWhereFilebeatsAcknowledgementsEnded() throws Exception {
        String run = TestEnv.uniqueName("fbm");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        GenericContainer<?> c = Containers.shell(run, Map.of("logferry.test", run),
                "awk 'BEGIN{for(i=1;i<=" + FIRST + ";i++) print \"t out \" i}'; while [ ! -f /go ]; do sleep 0.1; done;"
                        + " awk 'BEGIN{for(i=" + (FIRST + 1) + ";i<=" + TOTAL + ";i++) print \"t out \" i}'; sleep 3600");
        containers.add(c);
        c.start();
        GenericContainer<?> unselected = Containers.shell(run + "-other", Map.of(), "echo other; sleep 3600");
        containers.add(unselected);
        unselected.start();
        String id = c.getContainerId();
        Path log = TestEnv.containersPath().resolve(id).resolve(id + "-json.log");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> Files.exists(log) && lines(log) >= FIRST);
        Path otherLog = TestEnv.containersPath().resolve(unselected.getContainerId()).resolve(unselected.getContainerId() + "-json.log");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> Files.exists(otherLog) && lines(otherLog) >= 1);

        // Filebeat's registry as Filebeat (in a container mounting the host's /var/lib/docker/containers) left it
        long offset = endOfLine(log, K);
        long inode = ((Number) Files.getAttribute(log, "unix:ino")).longValue();
        long device = ((Number) Files.getAttribute(log, "unix:dev")).longValue();
        long otherInode = ((Number) Files.getAttribute(otherLog, "unix:ino")).longValue();
        String gone = "e".repeat(64);
        Path filebeatHome = dir.resolve("filebeat");
        new FilebeatFixture(41)
                .inCheckpoint(FilebeatFixture.containerKey(inode, device), FilebeatFixture.containerState(source(id), inode, device, 0))
                .inCheckpoint(FilebeatFixture.containerKey(1234, device), FilebeatFixture.containerState(source(gone), 1234, device, 99))
                .set(FilebeatFixture.containerKey(otherInode, device),
                        FilebeatFixture.containerState(source(unselected.getContainerId()), otherInode, device, 0))
                .set(FilebeatFixture.containerKey(inode, device), FilebeatFixture.containerState(source(id), inode, device, endOfLine(log, 60)))
                .set(FilebeatFixture.containerKey(inode, device), FilebeatFixture.containerState(source(id), inode, device, offset))
                .write(filebeatHome);

        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        Cli migrated = Cli.run(dir, Map.of(), "migrate", "filebeat", filebeatHome.resolve("data").toString(), "--config",
                agent.configFile().toString());
        System.out.println("[filebeat-migration] " + migrated);
        assertThat(migrated.exit()).as(migrated.toString()).isZero();
        assertThat(migrated.out()).contains("resume ").contains(id.substring(0, 12)).contains("at byte " + offset)
                .contains("not_selected").contains("no_container").contains("1 entries written");
        JsonNode written = new ObjectMapper().readTree(agent.registryFile().toFile()).path("containers").path(id);
        assertThat(written.path("offset").asLong()).isEqualTo(offset);

        Cli again = Cli.run(dir, Map.of(), "migrate", "filebeat", filebeatHome.toString(), "--config", agent.configFile().toString());
        assertThat(again.exit()).as(again.toString()).isEqualTo(1);
        assertThat(again.out()).contains("exists").contains("--force");

        agent.start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= FIRST - K);
        var touched = c.execInContainer("touch", "/go");
        assertThat(touched.getExitCode()).as(touched.getStderr()).isZero();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> lines(log) >= TOTAL);
        long end = Files.size(log);
        // everything in the file is read and acknowledged: the agent's registry has reached its end
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> registryOffset(agent.registryFile(), id) == end);

        List<JsonNode> docs = es.all(index, "message", "stream", "container.id");
        Map<Integer, Integer> seen = new TreeMap<>();
        List<String> strays = new ArrayList<>();
        for (JsonNode d : docs) {
            Matcher m = NUMBERED.matcher(d.path("message").asText());
            if (m.matches()) {
                seen.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
            } else {
                strays.add(d.path("message").asText());
            }
        }
        System.out.printf("[filebeat-migration] %d documents; lines %s..%s; cutover after line %d at byte %d%n", docs.size(),
                seen.isEmpty() ? "-" : ((TreeMap<Integer, Integer>) seen).firstKey(),
                seen.isEmpty() ? "-" : ((TreeMap<Integer, Integer>) seen).lastKey(), K, offset);
        assertThat(strays).as("documents that are not the container's numbered lines").isEmpty();
        assertThat(seen.keySet()).as("lines 1..%d (Filebeat's) are not shipped again; every later line is", K)
                .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(K + 1, TOTAL).boxed().toList());
        assertThat(seen.values()).as("each line exactly once").containsOnly(1);
        assertThat(docs).hasSize(TOTAL - K);
        assertThat(agent.output()).contains("resuming").doesNotContain("LOST:");
    }

    /**
     * Docker rotated the file Filebeat was reading: Filebeat's states name the two oldest files
     * (now {@code -json.log.N} and {@code .N-1}) by inode, each at its own offset, as two harvesters
     * left them; the newer files it never opened. The agent reads the rest of the oldest, the rest
     * of the next, then every newer file whole, in Docker's order, each line once.
     */
    @Test
    void aFileDockerRotatedResumesAtFilebeatsOffsetInItAndTheNewerFilesFollow() throws Exception {
        String run = TestEnv.uniqueName("fbr");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        try (DockerRun docker = new DockerRun()) {
            String id = docker.run(run, Map.of("logferry.test", run),
                    "awk 'BEGIN{for(i=1;i<=" + TOTAL + ";i++) print \"t out \" i}'; sleep 3600", false,
                    Map.of("max-size", "8k", "max-file", "20"));
            Path dirOf = TestEnv.containersPath().resolve(id);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> numbersIn(dirOf, id).size() >= TOTAL);
            List<Path> files = dockerOrder(dirOf, id);
            assertThat(files).as("Docker rotated the log").hasSizeGreaterThanOrEqualTo(4);
            Path oldest = files.get(0);
            Path next = files.get(1);
            long device = ((Number) Files.getAttribute(oldest, "unix:dev")).longValue();
            long inoOldest = ((Number) Files.getAttribute(oldest, "unix:ino")).longValue();
            long inoNext = ((Number) Files.getAttribute(next, "unix:ino")).longValue();
            Path filebeatHome = dir.resolve("filebeat");
            new FilebeatFixture(7)
                    .set(FilebeatFixture.containerKey(inoOldest, device),
                            FilebeatFixture.containerState(source(id), inoOldest, device, endOfLine(oldest, 3)))
                    .set(FilebeatFixture.containerKey(inoNext, device),
                            FilebeatFixture.containerState(source(id), inoNext, device, endOfLine(next, 5)))
                    .write(filebeatHome);
            java.util.Set<Integer> expected = new java.util.TreeSet<>();
            for (int i = 0; i < files.size(); i++) {
                List<Integer> n = numbers(files.get(i));
                expected.addAll(n.subList(i == 0 ? 3 : i == 1 ? 5 : 0, n.size()));
            }

            agent = new AgentProcess(dir, run, "logferry.test=" + run);
            Cli migrated = Cli.run(dir, Map.of(), "migrate", "filebeat", filebeatHome.toString(), "--config", agent.configFile().toString());
            System.out.println("[filebeat-migration] " + migrated);
            assertThat(migrated.exit()).as(migrated.toString()).isZero();
            assertThat(migrated.out()).contains("resume_rotated").contains(id.substring(0, 12));

            agent.start();
            Path live = files.get(files.size() - 1);
            long end = Files.size(live);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                    .failFast("the agent exited", () -> !agent.alive())
                    .until(() -> es.count(index) >= expected.size() && registryOffset(agent.registryFile(), id) == end);
            List<JsonNode> docs = es.all(index, "message");
            Map<Integer, Integer> seen = new TreeMap<>();
            for (JsonNode d : docs) {
                Matcher m = NUMBERED.matcher(d.path("message").asText());
                assertThat(m.matches()).as("a numbered line: %s", d).isTrue();
                seen.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
            }
            System.out.printf("[filebeat-migration] rotated: %d files, %d documents, %d lines expected (%d before Filebeat's offsets)%n",
                    files.size(), docs.size(), expected.size(), TOTAL - expected.size());
            assertThat(seen.keySet()).as("the lines after Filebeat's offsets in each file, and the newer files whole")
                    .containsExactlyElementsOf(expected);
            assertThat(seen.values()).as("each line exactly once").containsOnly(1);
            assertThat(agent.output()).doesNotContain("LOST:");
        }
    }

    /** -json.log.N ... .1, -json.log. */
    private static List<Path> dockerOrder(Path dir, String id) throws IOException {
        List<Path> rotated = new ArrayList<>();
        try (var l = Files.list(dir)) {
            l.filter(p -> p.getFileName().toString().matches(Pattern.quote(id) + "-json\\.log\\.\\d+")).forEach(rotated::add);
        }
        rotated.sort(java.util.Comparator.comparingInt((Path p) -> Integer.parseInt(p.getFileName().toString().replaceAll(".*\\.", ""))).reversed());
        rotated.add(dir.resolve(id + "-json.log"));
        return rotated;
    }

    private static List<Integer> numbers(Path file) throws IOException {
        List<Integer> out = new ArrayList<>();
        Pattern p = Pattern.compile("\"log\":\"t out (\\d+)\\\\n\"");
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                out.add(Integer.parseInt(m.group(1)));
            }
        }
        return out;
    }

    private static List<Integer> numbersIn(Path dir, String id) throws IOException {
        List<Integer> out = new ArrayList<>();
        for (Path f : dockerOrder(dir, id)) {
            if (Files.exists(f)) {
                out.addAll(numbers(f));
            }
        }
        return out;
    }

    private static String source(String id) {
        return "/var/lib/docker/containers/" + id + "/" + id + "-json.log";
    }

    private static long lines(Path p) throws IOException {
        try (var s = Files.lines(p, StandardCharsets.UTF_8)) {
            return s.count();
        }
    }

    /** The byte offset just after the n-th line of the file. */
    private static long endOfLine(Path p, int n) throws IOException {
        byte[] b = Files.readAllBytes(p);
        int seen = 0;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n' && ++seen == n) {
                return i + 1;
            }
        }
        throw new IllegalStateException(p + " has fewer than " + n + " lines");
    }

    private static long registryOffset(Path registry, String id) {
        try {
            return new ObjectMapper().readTree(registry.toFile()).path("containers").path(id).path("offset").asLong(-1);
        } catch (IOException e) {
            return -1;
        }
    }
}
