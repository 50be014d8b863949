package io.logferry.http;

import com.sun.net.httpserver.HttpServer;
import io.logferry.config.Config;
import io.logferry.elasticsearch.EsConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The health probe against a scripted {@code _cluster/health} on loopback, one probe at a time on the test's thread. */
class ElasticsearchProbeTest {
    private HttpServer server;
    private volatile int status = 503;
    private final AtomicInteger answers = new AtomicInteger();
    private ElasticsearchProbe probe;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/_cluster/health", ex -> {
            byte[] out = ("{\"status\":\"" + (status == 200 ? "green" : "red") + "\"}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
        Config.Elasticsearch es = new Config.Elasticsearch(List.of("http://127.0.0.1:" + server.getAddress().getPort()), "", "", "",
                "", "", Config.TlsVerify.FULL, 100, 1 << 20, Duration.ofMillis(10), 1, Duration.ofSeconds(10),
                Duration.ofMillis(1), Duration.ofMillis(5), "logs-logferry.deadletter-test");
        probe = new ElasticsearchProbe(EsConnection.build(es), es, ElasticsearchProbe.EVERY, answers::incrementAndGet);
    }

    @AfterEach
    void stop() {
        probe.close();
        server.stop(0);
    }

    @Test
    void theFirstAnswerAfterNoneIsHandedOnOnce() {
        probe.probe();
        assertThat(probe.problem()).contains("503");
        assertThat(answers).hasValue(0);

        status = 200;
        probe.probe();
        assertThat(probe.problem()).isNull();
        assertThat(answers).as("the cluster is back: the output is told").hasValue(1);
        probe.probe();
        assertThat(answers).as("told once, not at every probe").hasValue(1);

        status = 503;
        probe.probe();
        status = 200;
        probe.probe();
        assertThat(answers).hasValue(2);
    }

    @Test
    void itAsksMoreOftenWhileElasticsearchDoesNotAnswer() {
        assertThat(ElasticsearchProbe.next(true, Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
        assertThat(ElasticsearchProbe.next(false, Duration.ofSeconds(3))).isEqualTo(ElasticsearchProbe.WHILE_DOWN);
        assertThat(ElasticsearchProbe.next(false, Duration.ofMillis(100))).isEqualTo(Duration.ofMillis(100));
    }
}
