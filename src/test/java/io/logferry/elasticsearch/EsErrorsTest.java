package io.logferry.elasticsearch;

import io.logferry.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EsErrorsTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "https://user:pass@es:9200, https://***@es:9200",
            "https://user:pass@es:9200/prefix, https://***@es:9200/prefix",
            "http://u:p@ss@es, http://***@es",
            "http://user@es:9200, http://***@es:9200",
            "user:pass@es:9200, ***@es:9200",
            "https://es:9200, https://es:9200",
            "http://es:9200/a@b, http://es:9200/a@b",
            "'', ''",
    })
    void credentialsInAHostUrlAreNeverPrinted(String url, String printed) {
        assertThat(EsErrors.redact(url)).isEqualTo(printed);
    }

    @Test
    void theLinesAboutUnreachableHostsNameThemWithoutCredentials() {
        Config.Elasticsearch es = new Config.Elasticsearch(List.of("https://elastic:s3cret@es1:9200", "http://es2:9200"), "", "", "",
                "", "", Config.TlsVerify.FULL, 100, 1 << 20, Duration.ofSeconds(1), 1, Duration.ofSeconds(10),
                Duration.ofSeconds(1), Duration.ofSeconds(5), "logs-logferry.deadletter-default");
        String refused = EsErrors.describe(new ConnectException("Connection refused"), es);
        String slow = EsErrors.describe(new SocketTimeoutException("30,000 milliseconds timeout"), es);
        assertThat(refused).isEqualTo("cannot connect to https://***@es1:9200, http://es2:9200 (Connection refused)");
        assertThat(slow).contains("https://***@es1:9200").doesNotContain("s3cret").doesNotContain("elastic:");
    }
}
