package io.logferry.elasticsearch;

import com.sun.net.httpserver.HttpServer;
import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Clusters behind a gateway and keys as Filebeat users write them: the path prefix of
 * {@code elasticsearch.hosts} and {@code kibana.url} kept in every request (a server on loopback
 * records what it is asked), an {@code id:key} API key encoded, Kibana's requests bounded by
 * {@code elasticsearch.timeout}, and the config refusing what cannot work.
 */
class ConnectAnywhereTest {
    @TempDir
    Path dir;
    private HttpServer server;
    private final List<String> asked = new CopyOnWriteArrayList<>();
    private final CountDownLatch never = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            asked.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("Authorization"));
            if (ex.getRequestURI().getPath().contains("/slow/")) {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = ex.getRequestURI().getPath().endsWith("/api/status")
                    ? "{\"version\":{\"number\":\"8.19.21\"},\"status\":{\"overall\":{\"level\":\"available\"}}}".getBytes(StandardCharsets.UTF_8)
                    : "{\"status\":\"green\"}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        never.countDown();
        server.stop(0);
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private Config config(String yaml) throws Exception {
        Path f = dir.resolve("logferry.yml");
        Files.writeString(f, yaml);
        return new ConfigLoader(Map.of()).load(f);
    }

    @Test
    void theHostsPathPrefixIsInEveryRequest() throws Exception {
        Config c = config("elasticsearch:\n  hosts: [\"" + base() + "/elastic/\"]\n");
        try (RestClient client = EsConnection.build(c.elasticsearch())) {
            client.performRequest(new Request("GET", "/_cluster/health"));
        }
        assertThat(asked).singleElement().asString().startsWith("GET /elastic/_cluster/health ");
        assertThat(EsConnection.pathPrefix(List.of("https://gw:443/a/b//"))).isEqualTo("/a/b");
        assertThat(EsConnection.pathPrefix(List.of("https://gw:9200"))).isEmpty();
    }

    @Test
    void hostsWithDifferentPathsAndAKibanaUrlThatIsNoUrlAreRefused() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> config("elasticsearch:\n  hosts: [\"https://a/x\", \"https://b/y\"]\nkibana:\n  url: kibana:5601\n"));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).contains("hosts with different paths ['/x', '/y']"));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).isEqualTo(
                "config: key 'kibana.url' has 'kibana:5601', which is not an http:// or https:// URL"));
    }

    @Test
    void anApiKeyInFilebeatsIdColonKeyFormIsEncodedAndAnEncodedOneIsSentAsItIs() throws Exception {
        Config c = config("elasticsearch:\n  api_key: \"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw\"\n");
        assertThat(EsConnection.authorization(c.elasticsearch())).isEqualTo("ApiKey " + Base64.getEncoder()
                .encodeToString("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw".getBytes(StandardCharsets.UTF_8)));
        String encoded = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
        assertThat(EsConnection.authorization(config("elasticsearch:\n  api_key: \"" + encoded + "\"\n").elasticsearch()))
                .isEqualTo("ApiKey " + encoded);
    }

    @Test
    void kibanaIsAskedUnderItsPathPrefixAndWithinTheTimeout() throws Exception {
        Config c = config("elasticsearch:\n  timeout: 1s\n  api_key: \"id:key\"\n");
        KibanaSetup kibana = new KibanaSetup(base() + "/kibana/", c.elasticsearch());
        assertThat(kibana.status()).contains("8.19.21");
        assertThat(asked).singleElement().asString().startsWith("GET /kibana/api/status ApiKey ");
        assertThat(kibana.at(KibanaSetup.IMPORT_PATH)).isEqualTo(URI.create(base() + "/kibana/api/saved_objects/_import?overwrite=true"));
        assertThat(new KibanaSetup("https://gw.example.com", c.elasticsearch()).at("/api/status"))
                .isEqualTo(URI.create("https://gw.example.com/api/status"));

        KibanaSetup slow = new KibanaSetup(base() + "/slow", c.elasticsearch());
        assertThatThrownBy(slow::status).as("a Kibana that never answers is given up after elasticsearch.timeout")
                .isInstanceOf(HttpTimeoutException.class);
    }

    @Test
    void requestsGoThroughTheProxyWithItsCredentials() throws Exception {
        Config c = config("elasticsearch:\n  hosts: [\"http://elastic.invalid:9200/gw\"]\n  proxy_url: \"http://u:p@127.0.0.1:"
                + server.getAddress().getPort() + "\"\n");
        try (RestClient client = EsConnection.build(c.elasticsearch())) {
            client.performRequest(new Request("GET", "/_cluster/health"));
        }
        // a forward proxy is asked for the absolute URL; the host is never resolved here
        assertThat(asked).singleElement().asString().startsWith("GET http://elastic.invalid:9200/gw/_cluster/health ");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> config("elasticsearch:\n  proxy_url: proxy:3128\n"));
        assertThat(e.problems()).containsExactly("config: key 'elasticsearch.proxy_url' must be an http:// or https:// URL");
    }

    /** openssl with {@code args} in {@code dir}; fails the test with its output when it fails. */
    private void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("openssl " + String.join(" ", args) + ":\n" + out).isZero();
    }

    @Test
    void mutualTlsWithAClientCertificateTheTestMakes() throws Exception {
        // a CA, a server certificate for 127.0.0.1 and a client certificate, both signed by it
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem");
        for (String who : new String[] {"server", "client"}) {
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + who, "-keyout", who + ".key", "-out", who + ".csr");
            Files.writeString(dir.resolve(who + ".ext"), who.equals("server") ? "subjectAltName=IP:127.0.0.1\n" : "extendedKeyUsage=clientAuth\n");
            openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                    "-extfile", who + ".ext", "-out", who + ".pem");
        }
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", "client.key", "-out", "client-pkcs8.key");
        openssl("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-passout", "pass:pw", "-out", "server.p12");

        java.security.KeyStore serverKeys = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(dir.resolve("server.p12"))) {
            serverKeys.load(in, "pw".toCharArray());
        }
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(dir.resolve("ca.pem"))) {
            trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.SSLContext serverTls = org.apache.http.ssl.SSLContextBuilder.create().loadKeyMaterial(serverKeys, "pw".toCharArray())
                .loadTrustMaterial(trust, null).build();
        com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(serverTls) {
            @Override
            public void configure(com.sun.net.httpserver.HttpsParameters params) {
                javax.net.ssl.SSLParameters p = serverTls.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        https.createContext("/", ex -> {
            javax.net.ssl.SSLSession session = ((com.sun.net.httpserver.HttpsExchange) ex).getSSLSession();
            asked.add("client " + ((java.security.cert.X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal().getName());
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        https.start();
        try {
            String hosts = "elasticsearch:\n  hosts: [\"https://127.0.0.1:" + https.getAddress().getPort() + "\"]\n  tls:\n    ca_file: "
                    + dir.resolve("ca.pem") + "\n";
            Config with = config(hosts + "    cert_file: " + dir.resolve("client.pem") + "\n    key_file: " + dir.resolve("client-pkcs8.key") + "\n");
            try (RestClient client = EsConnection.build(with.elasticsearch())) {
                assertThat(client.performRequest(new Request("GET", "/")).getStatusLine().getStatusCode()).isEqualTo(200);
            }
            assertThat(asked).containsExactly("client CN=client");

            Config without = config(hosts);
            try (RestClient client = EsConnection.build(without.elasticsearch())) {
                assertThatThrownBy(() -> client.performRequest(new Request("GET", "/"))).as("no client certificate: refused")
                        .isInstanceOf(IOException.class);
            }
            Files.writeString(dir.resolve("rsa.key"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
            Config oldKey = config(hosts + "    cert_file: " + dir.resolve("client.pem") + "\n    key_file: " + dir.resolve("rsa.key") + "\n");
            assertThatThrownBy(() -> EsConnection.build(oldKey.elasticsearch())).hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
        } finally {
            https.stop(0);
        }
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> config("elasticsearch:\n  tls:\n    cert_file: /nonexistent.pem\n"));
        assertThat(e.problems()).contains("config: keys 'elasticsearch.tls.cert_file' and 'elasticsearch.tls.key_file' go together: give both or neither",
                "config: key 'elasticsearch.tls.cert_file': cannot read /nonexistent.pem");
    }
}
