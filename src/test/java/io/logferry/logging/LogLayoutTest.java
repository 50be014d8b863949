package io.logferry.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LogLayoutTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void forget() {
        Redaction.clearForTests();
    }

    private LogLayout layout(String format) {
        LogLayout l = new LogLayout();
        l.setContext(context);
        l.setFormat(format);
        l.setPattern("%level %logger{0}: %msg%n%ex");
        l.start();
        return l;
    }

    private LoggingEvent event(String message, Throwable t) {
        return new LoggingEvent("x", context.getLogger("io.logferry.Agent"), Level.WARN, message, t, null);
    }

    private static Config.Elasticsearch es(String user, String password, String apiKey) {
        return new Config.Elasticsearch(List.of("http://es:9200"), user, password, apiKey, "", "", Config.TlsVerify.FULL,
                1600, 10 << 20, Duration.ofSeconds(1), 2, Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofSeconds(60), "dl");
    }

    @Test
    void jsonIsOneEcsObjectPerLine() throws Exception {
        String line = layout("json").doLayout(event("container \"web\" (abc)\nsecond line \u0001", new IOException("boom")));
        assertThat(line).endsWith("\n");
        assertThat(line.strip()).doesNotContain("\n");
        JsonNode n = JSON.readTree(line);
        assertThat(n.path("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(n.path("log.level").asText()).isEqualTo("WARN");
        assertThat(n.path("message").asText()).isEqualTo("container \"web\" (abc)\nsecond line \u0001");
        assertThat(n.path("log.logger").asText()).isEqualTo("io.logferry.Agent");
        assertThat(n.path("ecs.version").asText()).isEqualTo("1.6.0");
        assertThat(n.path("service.name").asText()).isEqualTo("logferry");
        assertThat(n.path("error.type").asText()).isEqualTo("java.io.IOException");
        assertThat(n.path("error.message").asText()).isEqualTo("boom");
        assertThat(n.path("error.stack_trace").asText()).contains("LogLayoutTest");
    }

    @Test
    void textIsTheDefaultAndAnUnknownFormatFallsBackToIt() {
        assertThat(layout("text").doLayout(event("hello", null))).isEqualTo("WARN Agent: hello\n");
        assertThat(layout("xml").doLayout(event("hello", null))).isEqualTo("WARN Agent: hello\n");
    }

    @Test
    void textEscapesControlCharactersOfTheMessageButKeepsTheStackTraceLines() {
        String forged = "container evil\n2026-11-28T04:41:31.123Z INFO  [main] Agent: all good\u001b[2J\u009b31m\u007f";
        String line = layout("text").doLayout(event(forged, new IllegalStateException("boom")));
        String first = line.substring(0, line.indexOf('\n'));
        assertThat(first).isEqualTo("WARN Agent: container evil\\n2026-11-28T04:41:31.123Z INFO  [main] Agent: all good\\e[2J\\x9b31m\\x7f");
        assertThat(line).doesNotContain("\u001b").doesNotContain("\u009b").doesNotContain("\u007f");
        assertThat(line.substring(line.indexOf('\n') + 1)).startsWith("java.lang.IllegalStateException: boom").contains("\tat ");
    }

    @Test
    void jsonEscapesDelAndC1ControlsToo() throws Exception {
        String line = layout("json").doLayout(event("a\u007fb\u009bc\u001bd", null));
        assertThat(line).doesNotContain("\u007f").doesNotContain("\u009b").doesNotContain("\u001b");
        assertThat(JSON.readTree(line).path("message").asText()).isEqualTo("a\u007fb\u009bc\u001bd");
    }

    @Test
    void passwordsAndApiKeysNeverReachALine() throws Exception {
        Redaction.register(es("logferry", "hunter2-secret", ""));
        String basic = java.util.Base64.getEncoder().encodeToString("logferry:hunter2-secret".getBytes());
        String msg = "request with password hunter2-secret and header Basic " + basic;
        String text = layout("text").doLayout(event(msg, new IllegalStateException("hunter2-secret rejected")));
        assertThat(text).doesNotContain("hunter2-secret").doesNotContain(basic).contains("******").contains("logferry");
        String json = layout("json").doLayout(event(msg, new IllegalStateException("hunter2-secret rejected")));
        assertThat(json).doesNotContain("hunter2-secret").doesNotContain(basic);
        assertThat(JSON.readTree(json).path("message").asText()).isEqualTo("request with password ****** and header Basic ******");

        String id = "VuaCfGcBCdbkQm-e5aOx";
        String key = "ui2lp2axTNmsyakw9tvNnw";
        String encoded = java.util.Base64.getEncoder().encodeToString((id + ":" + key).getBytes());
        Redaction.register(es("", "", encoded));
        String k = layout("text").doLayout(event("ApiKey " + encoded + " and the key " + key, null));
        assertThat(k).doesNotContain(encoded).doesNotContain(key).contains("ApiKey ******");
    }

    @Test
    void shortSecretsAreLeftAloneRatherThanGarblingEveryWord() {
        Redaction.register(es("u", "abc", ""));
        assertThat(Redaction.redact("abcdef")).isEqualTo("abcdef");
    }
}
