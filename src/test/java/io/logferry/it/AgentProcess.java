package io.logferry.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * logferry as users run it: {@code java -jar target/logferry.jar run --config FILE} in its own
 * process, so that tests can send it SIGTERM and SIGKILL. Its output goes to a log file in the
 * test's directory and is printed when a test fails.
 */
public final class AgentProcess implements AutoCloseable {
    private final Path dir;
    private final Path config;
    private final Path log;
    private final int httpPort;
    private final Map<String, String> env;
    private Process process;
    private int starts;
    private final List<String> extraJavaOptions = new ArrayList<>();

    /**
     * @param extraYaml extra top-level YAML appended to the generated config (may be empty)
     */
    public AgentProcess(Path dir, String namespace, String selectLabel, String extraYaml, Map<String, String> env) throws IOException {
        this.dir = dir;
        this.httpPort = TestEnv.freePort();
        this.config = dir.resolve("logferry.yml");
        // kept after the test (its temp dir is not): target/it-logs/<namespace>-<n>.log
        Path logs = Path.of(System.getProperty("logferry.it.logs", "target/it-logs"));
        Files.createDirectories(logs);
        this.log = Files.createTempFile(logs, namespace + "-", ".log");
        this.env = env;
        String yaml = """
                docker:
                  host: %s
                  containers_path: %s
                selection:
                  include_labels: ["%s"]
                defaults:
                  namespace: %s
                elasticsearch:
                  hosts: [%s]
                  flush_interval: 200ms
                  backoff: {initial: 200ms, max: 5s}
                registry:
                  path: %s
                  flush_interval: 200ms
                http:
                  port: %d
                """.formatted(TestEnv.dockerHost(), TestEnv.containersPath(), selectLabel, namespace, TestEnv.esUrl(),
                dir.resolve("registry.json"), httpPort) + extraYaml;
        Files.writeString(config, yaml);
    }

    public AgentProcess(Path dir, String namespace, String selectLabel) throws IOException {
        this(dir, namespace, selectLabel, "", Map.of());
    }

    /** The port of its {@code /health}, {@code /ready} and {@code /metrics}. */
    public int httpPort() {
        return httpPort;
    }

    public Path dir() {
        return dir;
    }

    public Path registryFile() {
        return dir.resolve("registry.json");
    }

    public Path configFile() {
        return config;
    }

    /**
     * JVM options added after the image's at every start from now on: for the agent's test hooks, such as
     * {@code -Dlogferry.test.fatal_on_line=MARKER} ({@code io.logferry.decode.TestFaults}), which only tests set.
     */
    public AgentProcess javaOptions(String... options) {
        extraJavaOptions.addAll(List.of(options));
        return this;
    }

    public void start() throws IOException {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(javaBin));
        cmd.addAll(imageJavaOptions());
        cmd.addAll(extraJavaOptions);
        cmd.addAll(List.of("-jar", jar().toString(), "run", "--config", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Files.writeString(log, "---- start " + (++starts) + " ----\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        process = pb.start();
    }

    /**
     * The JVM options the image runs the agent with (the Dockerfile's {@code JDK_JAVA_OPTIONS},
     * as scripts/bench.sh reads them, and {@code -XX:-UsePerfData}), so that the tests see the
     * heap and the fatal-error behaviour users get. {@code -Dlogferry.it.javaOpts=...} replaces them.
     */
    static List<String> imageJavaOptions() {
        String given = System.getProperty("logferry.it.javaOpts");
        if (given != null) {
            return given.isBlank() ? List.of() : List.of(given.trim().split("\\s+"));
        }
        Path dockerfile = Path.of(System.getProperty("logferry.dockerfile", "Dockerfile"));
        try {
            for (String line : Files.readAllLines(dockerfile)) {
                if (line.startsWith("ENV JDK_JAVA_OPTIONS=\"") && line.endsWith("\"")) {
                    List<String> opts = new ArrayList<>(List.of(line.substring("ENV JDK_JAVA_OPTIONS=\"".length(), line.length() - 1)
                            .trim().split("\\s+")));
                    opts.add("-XX:-UsePerfData");
                    return opts;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the image's JVM options from " + dockerfile.toAbsolutePath(), e);
        }
        throw new IllegalStateException(dockerfile.toAbsolutePath() + " has no ENV JDK_JAVA_OPTIONS=\"...\" line");
    }

    public static Path jar() {
        Path jar = Path.of(System.getProperty("logferry.jar", "target/logferry.jar")).toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: integration tests run after `mvn package` (mvn verify)");
        }
        return jar;
    }

    /** SIGTERM, then the exit code (waits up to 30 s). */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the agent did not exit within 30 s of SIGTERM\n" + output());
        }
        return process.exitValue();
    }

    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** The exit code of the agent's process once it has exited, waiting up to {@code timeout} for it; -1 if it is still running. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** The agent's log so far. */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The value of one metric line (name with labels as printed), or -1 when unavailable. */
    public long metric(String nameWithLabels) {
        String body = get("/metrics");
        if (body == null) {
            return -1;
        }
        for (String line : body.split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) {
                return (long) Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
            }
        }
        return -1;
    }

    /** GET on the agent's HTTP port: the body, or null when it does not answer. */
    public String get(String path) {
        HttpResponse<String> r = getResponse(path);
        return r == null ? null : r.body();
    }

    public HttpResponse<String> getResponse(String path) {
        try {
            HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (alive()) {
            kill();
        }
    }
}
