package io.logferry.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * An extra Elasticsearch node of the test distribution, for tests that stop, kill, secure or
 * cluster Elasticsearch without disturbing the shared one: its own config, data and ports on
 * 127.0.0.1, run as the unprivileged user that env-up created. {@link #stop()} and
 * {@link #start()} keep the data; {@link #close()} stops it and deletes everything.
 */
public final class EsNode implements AutoCloseable {
    private final String name;
    private final Path base;
    private final Path conf;
    private final int httpPort;
    private final int transportPort;
    private final List<String> settings;
    private Process process;

    /**
     * @param settings extra {@code key=value} settings (each becomes {@code -E key=value}); without
     *                 {@code discovery.seed_hosts} the node is single-node with security off
     */
    public EsNode(String name, int httpPort, int transportPort, List<String> settings) throws IOException, InterruptedException {
        this.name = name;
        this.httpPort = httpPort;
        this.transportPort = transportPort;
        this.settings = List.copyOf(settings);
        Path root = Path.of(TestEnv.require("LOGFERRY_TEST_DIR"), "es-nodes");
        Files.createDirectories(root);
        this.base = Files.createTempDirectory(root, name + "-");
        this.conf = base.resolve("config");
        Path home = Path.of(TestEnv.require("LOGFERRY_TEST_ES_HOME"));
        Files.createDirectories(conf);
        try (Stream<Path> files = Files.list(home.resolve("config"))) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, conf.resolve(f.getFileName()));
                }
            }
        }
        for (String d : List.of("data", "logs", "tmp")) {
            Files.createDirectories(base.resolve(d));
        }
        run("chown", "-R", user() + ":" + user(), base.toString());
        run("chmod", "755", root.toString());
    }

    /** A single node, security off, on free ports. */
    public static EsNode single(String name) throws IOException, InterruptedException {
        return new EsNode(name, TestEnv.freePort(), TestEnv.freePort(), List.of("discovery.type=single-node", "xpack.security.enabled=false"));
    }

    static String user() {
        return TestEnv.require("LOGFERRY_TEST_ES_USER");
    }

    public String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    public int transportPort() {
        return transportPort;
    }

    public Path configDir() {
        return conf;
    }

    public Path home() {
        return Path.of(TestEnv.require("LOGFERRY_TEST_ES_HOME"));
    }

    /** Runs a tool of the distribution (bin/elasticsearch-users, -certutil) as the ES user with this node's config. */
    public void tool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("runuser", "-u", user(), "--", "env",
                "ES_JAVA_HOME=" + javaHome(), "ES_PATH_CONF=" + conf, "ES_TMPDIR=" + base.resolve("tmp")));
        cmd.add(home().resolve("bin").resolve(args[0]).toString());
        cmd.addAll(List.of(args).subList(1, args.length));
        run(cmd.toArray(String[]::new));
    }

    private static String javaHome() {
        String jh = System.getenv("JAVA_HOME");
        return jh != null ? jh : ProcessHandle.current().info().command().map(c -> Path.of(c).getParent().getParent().toString()).orElseThrow();
    }

    /** Starts the node; returns without waiting (see {@link #awaitUp}). */
    public void startAsync() throws IOException {
        List<String> cmd = new ArrayList<>(List.of("setsid", "runuser", "-u", user(), "--", "env", "-i",
                "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + base.resolve("tmp"), "LANG=C.UTF-8",
                "ES_JAVA_HOME=" + javaHome(), "ES_PATH_CONF=" + conf, "ES_TMPDIR=" + base.resolve("tmp"),
                "ES_JAVA_OPTS=-Xms512m -Xmx512m",
                home().resolve("bin/elasticsearch").toString(),
                "-E", "cluster.name=" + clusterName(), "-E", "node.name=" + name,
                "-E", "network.host=127.0.0.1", "-E", "http.port=" + httpPort, "-E", "transport.port=" + transportPort,
                "-E", "path.data=" + base.resolve("data"), "-E", "path.logs=" + base.resolve("logs"),
                "-E", "action.destructive_requires_name=false",
                "-E", "cluster.routing.allocation.disk.threshold_enabled=false"));
        for (String s : settings) {
            if (s.startsWith("cluster.name=")) {
                continue; // already given above: Elasticsearch refuses a setting given twice with -E
            }
            cmd.add("-E");
            cmd.add(s);
        }
        process = new ProcessBuilder(cmd).directory(base.resolve("logs").toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("console.log").toFile())).start();
    }

    private String clusterName() {
        for (String s : settings) {
            if (s.startsWith("cluster.name=")) {
                return s.substring("cluster.name=".length());
            }
        }
        return "logferry-" + name;
    }

    /** Starts the node and waits until it answers (any HTTP status, security may be on). */
    public void start() throws IOException {
        startAsync();
        awaitUp();
    }

    public void awaitUp() {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("elasticsearch " + name + " exited:\n" + console(), () -> process != null && !process.isAlive())
                .until(this::answers);
    }

    /** True when the node answers HTTP at all (401 included). */
    public boolean answers() {
        try {
            HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(url() + "/_cluster/health?wait_for_status=yellow&timeout=1s"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 || r.statusCode() == 401;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Basic auth header value for a user. */
    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes());
    }

    public String console() {
        try {
            return Files.readString(base.resolve("console.log"));
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGTERM to the node and everything it started; waits for it to be gone. */
    public void stop() throws InterruptedException {
        signal(false);
    }

    /** SIGKILL: a crash. */
    public void kill() throws InterruptedException {
        signal(true);
    }

    private void signal(boolean force) throws InterruptedException {
        if (process == null) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.sort(Comparator.comparingLong(ProcessHandle::pid).reversed());
        for (ProcessHandle h : all) {
            if (force) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
        process.waitFor(30, TimeUnit.SECONDS);
        process = null;
    }

    @Override
    public void close() throws Exception {
        kill();
        run("rm", "-rf", base.toString());
    }

    static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
