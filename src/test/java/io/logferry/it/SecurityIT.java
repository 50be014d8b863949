package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Elasticsearch with security on, as production runs it: HTTPS with a certificate from the
 * distribution's own {@code elasticsearch-certutil}, and a file-realm user made with
 * {@code elasticsearch-users} holding only the role the docs recommend (monitor and
 * manage_index_templates on the cluster; create_doc, auto_configure and view_index_metadata on
 * {@code logs-*}). One extra node for all of it. API keys cannot be made on this distribution (its
 * security index needs a module it lacks): {@link ApiKeyIT} covers them against a stand-in.
 */
class SecurityIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER = "logferry";
    private static final String PASSWORD = "ferry-" + TestEnv.uniqueName("pw");
    private static final String RUN = TestEnv.uniqueName("sec");

    private static EsNode node;
    private static Path dir;
    private static Path caFile;
    private static String httpsUrl;
    private static HttpClient https;

    @BeforeAll
    static void secureNode() throws Exception {
        dir = Files.createTempDirectory("security-it");
        int httpPort = TestEnv.freePort();
        node = new EsNode("secure", httpPort, TestEnv.freePort(), List.of(
                "discovery.type=single-node",
                "xpack.security.enabled=true",
                "xpack.security.http.ssl.enabled=true",
                "xpack.security.http.ssl.key=certs/instance/instance.key",
                // the chain with its CA, as Elasticsearch's own auto-configuration serves it: a
                // ca_fingerprint names a CA the client finds in the presented chain
                "xpack.security.http.ssl.certificate=certs/instance/chain.crt",
                "xpack.security.http.ssl.certificate_authorities=certs/ca/ca.crt"));
        Path conf = node.configDir();
        node.tool("elasticsearch-certutil", "ca", "--pem", "--silent", "--out", conf.resolve("ca.zip").toString());
        unzip(conf.resolve("ca.zip"), conf.resolve("certs"));
        node.tool("elasticsearch-certutil", "cert", "--pem", "--silent", "--ca-cert", conf.resolve("certs/ca/ca.crt").toString(),
                "--ca-key", conf.resolve("certs/ca/ca.key").toString(), "--ip", "127.0.0.1", "--dns", "localhost",
                "--out", conf.resolve("cert.zip").toString());
        unzip(conf.resolve("cert.zip"), conf.resolve("certs"));
        Files.writeString(conf.resolve("certs/instance/chain.crt"), Files.readString(conf.resolve("certs/instance/instance.crt"))
                + Files.readString(conf.resolve("certs/ca/ca.crt")));
        Files.writeString(conf.resolve("roles.yml"), """
                logferry_writer:
                  cluster: [monitor, manage_index_templates]
                  indices:
                    - names: ["logs-*"]
                      privileges: [create_doc, auto_configure, view_index_metadata]
                logferry_reader:
                  cluster: [monitor]
                  indices:
                    - names: ["logs-*"]
                      privileges: [read, view_index_metadata]
                """);
        node.tool("elasticsearch-users", "useradd", USER, "-p", PASSWORD, "-r", "logferry_writer");
        node.tool("elasticsearch-users", "useradd", "admin", "-p", PASSWORD, "-r", "superuser");
        node.tool("elasticsearch-users", "useradd", "reader", "-p", PASSWORD, "-r", "logferry_reader");
        caFile = dir.resolve("ca.crt");
        Files.copy(conf.resolve("certs/ca/ca.crt"), caFile);

        https = HttpClient.newBuilder().sslContext(trusting(caFile)).connectTimeout(Duration.ofSeconds(2)).build();
        httpsUrl = "https://127.0.0.1:" + httpPort;
        node.startAsync();
        await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .failFast("elasticsearch exited:\n" + node.console(), () -> false)
                .until(() -> get("/_cluster/health?wait_for_status=yellow&timeout=1s", "admin").statusCode() == 200);
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private static void unzip(Path zip, Path to) throws IOException {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                Path p = to.resolve(e.getName()).normalize();
                if (e.isDirectory()) {
                    Files.createDirectories(p);
                } else {
                    Files.createDirectories(p.getParent());
                    Files.copy(in, p);
                }
            }
        }
    }

    private static SSLContext trusting(Path ca) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static HttpResponse<String> get(String path, String user) throws IOException, InterruptedException {
        return https.send(HttpRequest.newBuilder(URI.create(httpsUrl + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", EsNode.basic(user, PASSWORD)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long count(String index) throws Exception {
        https.send(HttpRequest.newBuilder(URI.create(httpsUrl + "/" + index + "/_refresh")).POST(HttpRequest.BodyPublishers.noBody())
                .header("Authorization", EsNode.basic("admin", PASSWORD)).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> r = get("/" + index + "/_count", "admin");
        return r.statusCode() == 200 ? JSON.readTree(r.body()).path("count").asLong() : 0;
    }

    private static String fingerprint(Path ca) throws Exception {
        try (InputStream in = Files.newInputStream(ca)) {
            Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(in);
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        }
    }

    /** The Elasticsearch part of a config: hosts and TLS; credentials come from the environment of each run. */
    private static Map<String, String> env(String password, String... more) {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "LOGFERRY_ELASTICSEARCH_HOSTS", httpsUrl,
                "LOGFERRY_ELASTICSEARCH_USERNAME", USER,
                "LOGFERRY_ELASTICSEARCH_PASSWORD", password));
        for (int i = 0; i + 1 < more.length; i += 2) {
            env.put(more[i], more[i + 1]);
        }
        return env;
    }

    private static Path config() throws IOException {
        Path f = dir.resolve("logferry.yml");
        Files.writeString(f, """
                docker:
                  host: %s
                  containers_path: %s
                selection:
                  include_labels: ["logferry.test=%s"]
                registry:
                  path: %s
                """.formatted(TestEnv.dockerHost(), TestEnv.containersPath(), RUN, dir.resolve("registry.json")));
        return f;
    }

    @Test
    void checkAuthenticatesOverTlsWithACaFileOrFingerprint() throws Exception {
        Cli ok = Cli.run(dir, env(PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FILE", caFile.toString()), "check", "--config", config().toString());
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.out()).contains("elasticsearch: ok: cluster").contains("authenticated as " + USER)
                .contains("privileges: ok (create_doc and auto_configure on logs-docker-default, logs-logferry.deadletter-default; manage_index_templates)")
                .contains("password ******").doesNotContain(PASSWORD);

        Cli byFingerprint = Cli.run(dir, env(PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FINGERPRINT", fingerprint(caFile)),
                "check", "--config", config().toString());
        assertThat(byFingerprint.exit()).as(byFingerprint.toString()).isZero();

        Cli untrusted = Cli.run(dir, env(PASSWORD), "check", "--config", config().toString());
        assertThat(untrusted.exit()).as(untrusted.toString()).isEqualTo(1);
        assertThat(untrusted.errLines()).as(untrusted.toString()).singleElement().asString()
                .startsWith("elasticsearch: TLS with " + httpsUrl + " failed");

        Cli wrongFingerprint = Cli.run(dir, env(PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FINGERPRINT", "00".repeat(32)),
                "check", "--config", config().toString());
        assertThat(wrongFingerprint.exit()).as(wrongFingerprint.toString()).isEqualTo(1);
    }

    @Test
    void aWrongPasswordGivesOneClearLineAndExitOne() throws Exception {
        Cli r = Cli.run(dir, env("not-" + PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FILE", caFile.toString()),
                "check", "--config", config().toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.errLines()).as(r.toString()).containsExactly("elasticsearch: authentication failed for user " + USER + " (401)");
        assertThat(r.out() + r.err()).doesNotContain(PASSWORD);

        Cli setup = Cli.run(dir, env("not-" + PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FILE", caFile.toString()),
                "setup", "--config", config().toString());
        assertThat(setup.exit()).as(setup.toString()).isEqualTo(1);
        assertThat(setup.errLines()).containsExactly("elasticsearch: authentication failed for user " + USER + " (401)");
    }

    @Test
    void aUserWhoMayNotWriteIsToldWhatItLacks() throws Exception {
        Map<String, String> env = env(PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FILE", caFile.toString());
        env.put("LOGFERRY_ELASTICSEARCH_USERNAME", "reader");
        Cli r = Cli.run(dir, env, "check", "--config", config().toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.errLines()).as(r.toString()).singleElement().asString()
                .startsWith("elasticsearch: user reader lacks manage_index_templates on the cluster (setup.enabled is true); ")
                .endsWith("auto_configure and create_doc on logs-docker-default, logs-logferry.deadletter-default");
    }

    @Test
    void basicAuthShipsWithTheLeastPrivilegedRoleAndJsonLogsKeepThePasswordOut() throws Exception {
        Cli setup = Cli.run(dir, env(PASSWORD, "LOGFERRY_ELASTICSEARCH_TLS_CA_FILE", caFile.toString()), "setup", "--config", config().toString());
        assertThat(setup.exit()).as(setup.toString()).isZero();

        String index = "logs-docker-" + RUN;
        GenericContainer<?> c = Containers.oneShot(RUN, Map.of("logferry.test", RUN), Containers.numbered("s", 300, true));
        try (AgentProcess agent = new AgentProcess(dir, RUN, "logferry.test=" + RUN, "", env(PASSWORD,
                "LOGFERRY_ELASTICSEARCH_TLS_CA_FILE", caFile.toString(), "LOGFERRY_LOG_FORMAT", "json"))) {
            c.start();
            agent.start();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                    .until(() -> count(index) >= 600);
            assertThat(count(index)).isEqualTo(600);
            assertThat(agent.getResponse("/health").statusCode()).isEqualTo(200);
            assertThat(agent.terminate()).isZero();

            String log = agent.output();
            assertThat(log).doesNotContain(PASSWORD);
            int lines = 0;
            for (String line : log.lines().toList()) {
                if (line.startsWith("---- start") || line.isBlank()) {
                    continue;      // the test harness's marker
                }
                if (line.startsWith("WARNING:")) {
                    continue;      // the JVM's own warnings, before logging starts
                }
                JsonNode n = JSON.readTree(line);
                assertThat(n.path("@timestamp").isTextual()).as(line).isTrue();
                assertThat(n.path("log.level").isTextual()).as(line).isTrue();
                lines++;
            }
            assertThat(lines).as("JSON log lines").isGreaterThan(3);
        } finally {
            c.stop();
        }
    }
}
