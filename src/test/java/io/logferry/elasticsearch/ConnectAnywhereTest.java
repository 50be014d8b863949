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
}
