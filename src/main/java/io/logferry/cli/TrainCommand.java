package io.logferry.cli;

import io.logferry.Agent;
import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import io.logferry.docker.Discovery;
import io.logferry.metrics.Metric;
import io.logferry.model.ContainerInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * {@code logferry train}: a short run of the whole agent (control loop, file tailers, decoding,
 * multiline, JSON, documents, queue, batcher, registry, {@code /metrics}) on generated json-file
 * logs in a temporary directory, with output {@code discard} and no Docker engine, so that the JVM
 * can record which classes start-up and the per-line work load and which methods they make hot.
 *
 * <p>Run with {@code -XX:AOTCacheOutput=FILE} (JDK 25) it writes an AOT cache that later starts
 * use with {@code -XX:AOTCache=FILE}: the image build does this (see the Dockerfile), and so does
 * {@code scripts/bench.sh}. The cache belongs to one JVM build and one jar: the training must run
 * with the same {@code java} and the same jar path as the agent.
 *
 * <p>Exit 0 when every generated event was acknowledged, 1 otherwise.
 */
final class TrainCommand {
    /** Entries per container: enough for the JIT to compile the per-line path at its top tier. */
    static final int ENTRIES = 60_000;
    private static final Duration DEADLINE = Duration.ofMinutes(2);
    private static final Duration STALL = Duration.ofSeconds(3);
    private static final String TIME = "2026-01-01T00:00:00.%09dZ";

    private final PrintStream out;
    private final int entries;

    TrainCommand(PrintStream out, int entries) {
        this.out = out;
        this.entries = entries;
    }

    int run(String version) throws IOException, InterruptedException, ConfigException {
        Path dir = Files.createTempDirectory("logferry-train");
        try {
            return train(dir, version);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private int train(Path dir, String version) throws IOException, InterruptedException, ConfigException {
        long t0 = System.nanoTime();
        Path containers = Files.createDirectories(dir.resolve("containers"));
        List<ContainerInfo> infos = new ArrayList<>();
        long expected = 0;
        expected += write(containers, "plain", Map.of(), infos, this::plain);
        expected += write(containers, "realistic", Map.of("logferry.multiline", "java", "logferry.json", "true"), infos, this::realistic);
        Path yml = dir.resolve("logferry.yml");
        Files.writeString(yml, String.join("\n",
                "docker:",
                "  host: unix://" + dir.resolve("no-docker.sock"),
                "  containers_path: " + containers,
                "  read_mode: file",
                "defaults:",
                "  start_position: beginning",
                "output: discard",
                "registry:",
                "  path: " + dir.resolve("registry.json"),
                "http:",
                "  host: 127.0.0.1",
                "  port: 0",
                ""), StandardCharsets.UTF_8);
        Config config = new ConfigLoader(Map.of()).load(yml);
        Agent agent = new Agent(config, version);
        try {
            Discovery.Listener loop = agent.startWithoutDiscovery();
            loop.connected("logferry-train");
            Set<String> ids = new HashSet<>();
            for (ContainerInfo c : infos) {
                loop.present(c, true);
                ids.add(c.id());
            }
            loop.listed(ids);
            // until every event is acknowledged, or nothing moved for 3 s (a miscount here must not hold a build)
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            long acked = 0;
            long lastMove = System.nanoTime();
            while (acked < expected && System.nanoTime() < deadline && System.nanoTime() - lastMove < STALL.toNanos()) {
                Thread.sleep(20);
                scrape(agent.httpPort(), "/metrics?name[]=logferry_events_acked_total");
                long now = agent.metrics().value(Metric.EVENTS_ACKED);
                if (now != acked) {
                    acked = now;
                    lastMove = System.nanoTime();
                }
            }
            scrape(agent.httpPort(), "/metrics");
            scrape(agent.httpPort(), "/health");
            out.printf("logferry train: %d of %d events acknowledged in %d ms%n", acked, expected,
                    (System.nanoTime() - t0) / 1_000_000);
            return acked >= expected ? 0 : 1;
        } catch (Exception e) {
            out.println("logferry train: " + e);
            return 1;
        } finally {
            agent.close();
        }
    }

    private interface Lines {
        /** Writes the json-file lines of entry {@code i}; returns the events they make. */
        int write(Writer w, int i, SplittableRandom r) throws IOException;
    }

    private long write(Path containers, String name, Map<String, String> labels, List<ContainerInfo> infos, Lines lines)
            throws IOException {
        String id = (name + "0".repeat(64)).substring(0, 64).replaceAll("[^0-9a-f]", "a");
        Path log = Files.createDirectories(containers.resolve(id)).resolve(id + "-json.log");
        long events = 0;
        SplittableRandom r = new SplittableRandom(42);
        try (Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            for (int i = 0; i < entries; i++) {
                events += lines.write(w, i, r);
            }
        }
        infos.add(new ContainerInfo(id, "/logferry-train-" + name, "logferry-train:" + name, labels, log.toString(),
                "json-file", false));
        return events;
    }

    private int plain(Writer w, int i, SplittableRandom r) throws IOException {
        entry(w, i, "GET /api/items/" + r.nextInt(100_000) + " 200 " + r.nextInt(900) + "ms user=u" + (i % 97)
                + " request_id=" + Long.toHexString(r.nextLong()) + "\\n", i % 10 == 0 ? "stderr" : "stdout");
        return 1;
    }

    private int realistic(Writer w, int i, SplittableRandom r) throws IOException {
        int kind = i % 20;
        if (kind == 3) {
            entry(w, i, "{\\\"level\\\":\\\"info\\\",\\\"msg\\\":\\\"order " + i + " placed\\\",\\\"amount\\\":" + r.nextInt(1000)
                    + ",\\\"user\\\":{\\\"id\\\":" + (i % 13) + "}}\\n", "stdout");
            return 1;
        }
        if (kind == 7) {
            entry(w, i, "java.lang.IllegalStateException: request " + i + " failed\\n", "stderr");
            for (int f = 0; f < 6; f++) {
                entry(w, i, "\\tat io.example.Service.handle(Service.java:" + (100 + f) + ")\\n", "stderr");
            }
            return 1;
        }
        if (kind == 11 && i % 200 == 11) {
            // a line Docker split at 16 KiB: two entries, the first without its newline
            entry(w, i, "x".repeat(16 * 1024), "stdout");
            entry(w, i, "y".repeat(2000) + " é ü 日本\\n", "stdout");
            return 1;
        }
        entry(w, i, "2026-01-01 00:00:00.000 WARN  [worker-" + (i % 8) + "] cache miss for key k" + r.nextInt(5000)
                + " après " + r.nextInt(50) + " ms\\n", "stdout");
        return 1;
    }

    private static void entry(Writer w, int i, String escapedLog, String stream) throws IOException {
        w.write("{\"log\":\"");
        w.write(escapedLog);
        w.write("\",\"stream\":\"");
        w.write(stream);
        w.write("\",\"time\":\"");
        w.write(String.format(TIME, i));
        w.write("\"}\n");
    }

    private static void scrape(int port, String path) {
        if (port < 0) {
            return;
        }
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            try (InputStream in = c.getInputStream()) {
                in.readAllBytes();
            }
        } catch (IOException e) {
            // the training goes on without it
        }
    }
}
