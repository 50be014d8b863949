package io.logferry.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DataStreamTest {
    @Test
    void aLogsStreamIsNamedByItsDatasetAndNamespace() {
        DataStream s = DataStream.logs("docker", "default");

        assertThat(s.name()).isEqualTo("logs-docker-default");
        assertThat(s).hasToString("logs-docker-default");
        assertThat(DataStream.logsPattern("nginx.access")).isEqualTo("logs-nginx.access-*");
    }

    @ParameterizedTest
    @CsvSource({
            "logs-docker-default,                 logs, docker,              default",
            "logs-logferry.deadletter-default,    logs, logferry.deadletter, default",
            "logs-app-prod-eu,                    logs, app,                 prod-eu",
            "metrics-system.cpu-x,                metrics, system.cpu,       x",
    })
    void aNameSplitsAtItsFirstTwoDashes(String name, String type, String dataset, String namespace) {
        assertThat(DataStream.parse(name)).contains(new DataStream(type, dataset, namespace));
        assertThat(DataStream.parse(name).orElseThrow().name()).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "logs", "logs-docker", "logs--default", "-docker-default", "logs-docker-"})
    void aNameWithoutThreePartsIsNoDataStream(String name) {
        assertThat(DataStream.parse(name)).isEmpty();
    }
}
