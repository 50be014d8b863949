package io.logferry.logging;

import io.logferry.config.Config;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Secrets given in the forms issue 27 added are masked in every line. */
class RedactionTest {
    @Test
    void anIdColonKeyApiKeyAndAProxyPasswordAreMasked() {
        String key = "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw";
        Redaction.register(new Config.Elasticsearch(List.of("http://es:9200"), "", "", key, "", "", Config.TlsVerify.FULL, 1, 1,
                Duration.ofSeconds(1), 1, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), "logs-x-y",
                "http://proxyuser:proxy-s3cret-pw@proxy:3128", "", ""));
        String header = Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8));
        String line = Redaction.redact("key ui2lp2axTNmsyakw9tvNnw, header ApiKey " + header + ", proxy proxy-s3cret-pw");
        assertThat(line).doesNotContain("ui2lp2axTNmsyakw9tvNnw").doesNotContain(header).doesNotContain("proxy-s3cret-pw");
    }
}
