package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The registry file truncated to 0 bytes between two runs (a crash of the filesystem, a full
 * disk): the agent reports it, resumes from the previous good copy ({@code registry.json.bak}),
 * and every line lands exactly once. The copy is at most one flush behind, so the replay is small;
 * without it the agent would start over from the beginning of the log.
 */
class RegistryTruncatedIT {
    private static final int CHUNKS = 20;
    private static final int PER_CHUNK = 1000;

    @TempDir
    Path dir;
    private GenericContainer<?> container;
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (container != null) {
            container.stop();
        }
    }

    @Test
    void aTruncatedRegistryFallsBackToTheBackupAndNothingIsLostOrDuplicated() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("reg");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        container = Containers.shell(run, Map.of("logferry.test", run), Tally.paced("t", CHUNKS, PER_CHUNK, "0.5"));
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        container.start();

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= 6_000);
        assertThat(agent.terminate()).as("exit code after SIGTERM").isZero();
        long atStop = es.count(index);
        Path registry = agent.registryFile();
        Path backup = registry.resolveSibling(registry.getFileName() + ".bak");
        assertThat(backup).exists();
        assertThat(Files.size(backup)).isPositive();

        try (FileChannel ch = FileChannel.open(registry, StandardOpenOption.WRITE)) {
            ch.truncate(0);
        }
        assertThat(Files.size(registry)).isZero();

        agent.start();
        int total = CHUNKS * PER_CHUNK;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total);
        var docs = es.all(index, "message", "stream");
        long replayed = agent.metric("logferry_events_duplicate_total");
        Tally.report("registry truncated to 0 bytes", started, Map.of("t", total), Tally.messages(docs));
        System.out.printf("[fault-scenario] registry: %d lines in the index at the stop; %d replayed after the restart from the backup%n",
                atStop, replayed);
        Containers.assertExactlyOnce(docs, Map.of("t", total), false);

        String log = agent.output();
        assertThat(log).contains("corrupt or truncated").contains("previous good copy");
        assertThat(log).contains("resuming");
        // resumed from the backup, not from the start of the log: the replay is a fraction of what was there
        assertThat(replayed).as("events replayed after the restart").isLessThan(atStop / 2);
        // the truncated file did not overwrite the good copy, and the registry is whole again
        assertThat(Files.size(registry)).isPositive();
    }
}
