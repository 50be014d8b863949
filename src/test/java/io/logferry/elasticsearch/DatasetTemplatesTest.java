package io.logferry.elasticsearch;

import io.logferry.config.Config;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The wait between attempts to put a dataset's template while nothing answers (a port nobody listens on): no real waiting. */
class DatasetTemplatesTest {
    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RestClient nobody() throws Exception {
        Config.Elasticsearch es = new Config.Elasticsearch(List.of("http://127.0.0.1:" + freePort()), "", "", "",
                "", "", Config.TlsVerify.FULL, 100, 1 << 20, Duration.ofMillis(10), 1, Duration.ofSeconds(2),
                Duration.ofMillis(1), Duration.ofMillis(5), "logs-logferry.deadletter-test");
        return EsConnection.build(es);
    }

    /** The waits asked for, until the fourth, which ends the test's ensure() as a shutdown would. */
    private static List<Long> waits(boolean clusterBack) throws Exception {
        List<Long> waits = new ArrayList<>();
        try (RestClient client = nobody()) {
            DatasetTemplates t = new DatasetTemplates(client, null, ms -> {
                waits.add(ms);
                if (waits.size() == 4) {
                    throw new InterruptedException("enough");
                }
                return clusterBack;
            });
            assertThatThrownBy(() -> t.ensure("nginx")).isInstanceOf(InterruptedException.class);
        }
        return waits;
    }

    @Test
    void whileNothingAnswersTheWaitDoubles() throws Exception {
        assertThat(waits(false)).containsExactly(1000L, 2000L, 4000L, 8000L);
    }

    @Test
    void aWaitCutShortByTheClusterAnsweringStartsTheBackoffAgain() throws Exception {
        assertThat(waits(true)).containsExactly(1000L, 1000L, 1000L, 1000L);
    }

    @Test
    void theMainTemplatesOwnDatasetsNeedNothing() throws Exception {
        try (RestClient client = nobody()) {
            new DatasetTemplates(client, null, ms -> {
                throw new AssertionError("no wait expected");
            }).ensure("docker");
        }
    }
}
