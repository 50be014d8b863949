package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.MultilineType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Labels are untrusted input: the limits they may not raise, the data streams they may not choose, the values that must not throw. */
class SelectorLimitsTest {
    private static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static Config config;

    @BeforeAll
    static void loadDefaults() throws Exception {
        config = new ConfigLoader(Map.of()).load(null);
    }

    static Config with(Config c, Config.Labels labels) {
        return new Config(c.docker(), c.selection(), c.defaults(), c.output(), c.queue(), c.elasticsearch(), labels, c.limits(),
                c.setupEnabled(), c.kibanaUrl(), c.registry(), c.shutdownTimeout(), c.http(), c.spool());
    }

    static Config with(Config c, Config.Limits limits) {
        return new Config(c.docker(), c.selection(), c.defaults(), c.output(), c.queue(), c.elasticsearch(), c.labels(), limits,
                c.setupEnabled(), c.kibanaUrl(), c.registry(), c.shutdownTimeout(), c.http(), c.spool());
    }

    static ContainerInfo container(Map<String, String> labels) {
        return new ContainerInfo(ID, "/app", "busybox:latest", labels, "", "json-file", true);
    }

    private static Map<String, String> labels(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Selector.Decision decide(Config c, String... kv) {
        return new Selector(c, "").decide(container(labels(kv)));
    }

    private static Selector.Decision decide(String... kv) {
        return decide(config, kv);
    }

    private static Selector.Refusal only(Selector.Decision d) {
        assertThat(d.selected()).as(d.reason()).isTrue();
        assertThat(d.refusals()).hasSize(1);
        return d.refusals().get(0);
    }

    /** The one refusal of the setting, besides the cut of the long value in container.labels.*. */
    private static Selector.Refusal onlySetting(Selector.Decision d) {
        assertThat(d.selected()).as(d.reason()).isTrue();
        List<Selector.Refusal> own = d.refusals().stream().filter(r -> !r.reason().equals("container_labels")).toList();
        assertThat(own).hasSize(1);
        assertThat(d.refusals()).hasSize(2);
        return own.get(0);
    }

    // ---- numbers and durations: a label lowers a limit, never raises it ----

    @ParameterizedTest(name = "max_bytes={0} -> {1} ({2})")
    @CsvSource(textBlock = """
            65536, 65536, ''
            10485760, 10485760, ''
            10485761, 10485760, range
            2147483647, 10485760, range
            2147483648, 10485760, range
            99999999999999999999999999999999, 10485760, range
            +4096, 4096, ''
            000123, 123, ''
            0, 1048576, invalid
            -1, 1048576, invalid
            1e6, 1048576, invalid
            '', 1048576, invalid
            ' ', 1048576, invalid
            """)
    void maxBytesIsLoweredToTheCeiling(String value, int expected, String reason) {
        Selector.Decision d = decide("logferry.max_bytes", value);
        assertThat(d.settings().orElseThrow().maxBytes()).isEqualTo(expected);
        assertThat(d.refusals().stream().map(Selector.Refusal::reason).toList())
                .isEqualTo(reason.isEmpty() ? List.of() : List.of(reason));
        if (reason.equals("range")) {
            assertThat(d.warnings().get(0)).contains("is above limits.max_bytes (10485760); using 10485760");
        }
    }

    @ParameterizedTest(name = "{0}={1} -> {2}")
    @CsvSource(textBlock = """
            logferry.multiline.max_lines, 20000, 10000, range
            co.elastic.logs/multiline.max_lines, 2147483647, 10000, range
            logferry.multiline.max_lines, 50, 50, ''
            logferry.multiline.max_lines, 0, 500, invalid
            """)
    void multilineMaxLinesIsLoweredToTheCeiling(String key, String value, int expected, String reason) {
        Selector.Decision d = decide("logferry.multiline", "java", key, value);
        assertThat(d.settings().orElseThrow().multiline().maxLines()).isEqualTo(expected);
        assertThat(d.refusals().stream().map(Selector.Refusal::reason).toList())
                .isEqualTo(reason.isEmpty() ? List.of() : List.of(reason));
    }

    @ParameterizedTest(name = "{0}={1} -> {2} ms")
    @CsvSource(textBlock = """
            logferry.multiline.timeout, 2s, 2000, ''
            logferry.multiline.timeout, 1m, 60000, ''
            logferry.multiline.timeout, 61s, 60000, range
            co.elastic.logs/multiline.timeout, 2h, 60000, range
            logferry.multiline.timeout, 8784h, 60000, range
            logferry.multiline.timeout, 3000000000000000h, 5000, duration
            co.elastic.logs/multiline.timeout, 3000000000000000h, 5000, duration
            logferry.multiline.timeout, 999999999999h, 5000, duration
            logferry.multiline.timeout, 9223372036854775807ms, 5000, duration
            logferry.multiline.timeout, 0, 5000, duration
            logferry.multiline.timeout, -5s, 5000, duration
            """)
    void multilineTimeoutIsBoundedAndNeverOverflows(String key, String value, long millis, String reason) {
        Selector.Decision d = decide("logferry.multiline", "java", key, value);
        assertThat(d.settings().orElseThrow().multiline().timeout()).isEqualTo(Duration.ofMillis(millis));
        assertThat(d.refusals().stream().map(Selector.Refusal::reason).toList())
                .isEqualTo(reason.isEmpty() ? List.of() : List.of(reason));
    }

    @Test
    void aLowerOperatorCeilingIsTheOneThatCounts() {
        Config.Limits l = config.limits();
        Config low = with(config, new Config.Limits(4096, 10, Duration.ofSeconds(3), 16, 2, l.containerLabelsMaxCount(),
                l.containerLabelsMaxBytes(), l.heldFilesPerContainer(), l.heldBytesTotal()));
        ContainerSettings s = decide(low, "logferry.max_bytes", "8192", "logferry.multiline", "java",
                "logferry.multiline.max_lines", "11", "logferry.multiline.timeout", "4s").settings().orElseThrow();
        assertThat(s.maxBytes()).isEqualTo(4096);
        assertThat(s.multiline().maxLines()).isEqualTo(10);
        assertThat(s.multiline().timeout()).isEqualTo(Duration.ofSeconds(3));
        Selector.Decision regex = decide(low, "logferry.include_lines", "a{1,3}bcdefghijklmn");
        assertThat(only(regex).reason()).isEqualTo("regex");
        assertThat(only(regex).message()).contains("limits.regex_max_length (16)");
        Selector.Decision count = decide(low, "logferry.exclude_lines", "a,b,c");
        assertThat(only(count).message()).contains("has 3 regexes, more than limits.regex_max_count (2)");
    }

    // ---- the hostile values of the issue: one warning each, the default, nothing thrown ----

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', textBlock = """
            logferry.exclude_lines;  .*.*.*.*.*.*=;             ''
            logferry.exclude_lines;  ((a{1000}){1000}){1000};   regex
            co.elastic.logs/exclude_lines; ((a{1000}){1000}){1000}; regex
            logferry.multiline.pattern; ((a{1000}){1000}){1000}; regex
            logferry.include_lines;  (?<=user=)\\w+;            regex
            logferry.multiline.timeout; 3000000000000000h;     duration
            """)
    void hostileValuesOfTheIssue(String key, String value, String reason) {
        Selector.Decision d = decide(key, value);
        assertThat(d.selected()).isTrue();
        assertThat(d.refusals().stream().map(Selector.Refusal::reason).toList())
                .isEqualTo(reason.isEmpty() ? List.of() : List.of(reason));
    }

    @Test
    void aFortyKilobyteNestedRegexGivesOneShortWarningAndTheDefault() {
        String nested = "(".repeat(20_480) + "a" + ")".repeat(20_480);
        for (String key : List.of("logferry.multiline.pattern", "logferry.include_lines", "co.elastic.logs/multiline.pattern")) {
            Selector.Decision d = decide(key, nested);
            Selector.Refusal r = onlySetting(d);
            assertThat(r.reason()).isEqualTo("regex");
            assertThat(r.message()).contains("40961 characters long").contains("…(40961 chars)").hasSizeLessThan(700);
            ContainerSettings s = d.settings().orElseThrow();
            assertThat(s.multiline().type()).isEqualTo(MultilineType.NONE);
            assertThat(s.includeLines()).isEmpty();
        }
    }

    @Test
    void warningsQuoteValuesEscapedAndCut() {
        Selector.Decision d = decide("logferry.streams", "all\n2026-12-01 INFO forged line\u001b[2J" + "x".repeat(1000));
        String w = onlySetting(d).message();
        assertThat(w).doesNotContain("\n").doesNotContain("\u001b").contains("all\\n2026-12-01 INFO forged line\\e[2J")
                .contains("…(1035 chars)");
    }

    // ---- data streams ----

    @ParameterizedTest(name = "dataset={0} namespace={1} -> {2} ({3})")
    @CsvSource(textBlock = """
            nginx, prod, logs-nginx-prod, ''
            logferry.deadletter, default, logs-docker-default, dataset
            LogFerry, default, logs-docker-default, dataset
            logferry_anything, x, logs-docker-x, dataset
            '', prod, logs-docker-prod, dataset
            '---', '...', logs-docker-default, dataset namespace
            """)
    void reservedAndEmptyDatasetsFallBack(String dataset, String namespace, String stream, String reasons) {
        Selector.Decision d = decide("logferry.dataset", dataset, "logferry.namespace", namespace);
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo(stream);
        assertThat(String.join(" ", d.refusals().stream().map(Selector.Refusal::reason).toList())).isEqualTo(reasons);
    }

    @Test
    void theDeadLetterStreamIsRefusedWhateverItIsCalled() throws Exception {
        Config c = new ConfigLoader(Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", "logs-rejects-prod")).load(null);
        Selector.Decision d = decide(c, "logferry.dataset", "rejects", "logferry.namespace", "prod");
        Selector.Refusal r = only(d);
        assertThat(r.reason()).isEqualTo("dead_letter");
        assertThat(r.message()).contains("dead-letter stream logs-rejects-prod").contains("using logs-docker-default");
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
        assertThat(decide(c, "logferry.dataset", "rejects").settings().orElseThrow().dataStream()).isEqualTo("logs-rejects-default");
    }

    @Test
    void allowlistsAreGlobs() {
        Config c = with(config, new Config.Labels(List.of("nginx", "team-*", "app?"), List.of("prod", "stag*"), 50, List.of("*")));
        assertThat(decide(c, "logferry.dataset", "nginx").refusals()).isEmpty();
        assertThat(decide(c, "logferry.dataset", "app1").refusals()).isEmpty();
        // sanitised first: team-a is team_a, which the glob team-* does not match
        assertThat(only(decide(c, "logferry.dataset", "team-a")).reason()).isEqualTo("dataset");
        Selector.Decision other = decide(c, "logferry.dataset", "redis", "logferry.namespace", "staging");
        Selector.Refusal r = only(other);
        assertThat(r.message()).contains("logferry.dataset='redis' is not in labels.allowed_datasets [nginx, team-*, app?]; using docker");
        assertThat(other.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-staging");
        assertThat(only(decide(c, "logferry.namespace", "dev")).reason()).isEqualTo("namespace");
        // the default dataset is always allowed
        assertThat(decide(c, "logferry.dataset", "docker").refusals()).isEmpty();
    }

    // ---- fields and container labels ----

    @Test
    void fieldsAreCappedLikeContainerLabels() {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < 150; i++) {
            m.put("logferry.fields.f" + String.format("%03d", i), "v");
        }
        Selector.Decision d = new Selector(config, "").decide(container(m));
        assertThat(d.settings().orElseThrow().fields()).hasSize(100).containsKey("f000").containsKey("f099").doesNotContainKey("f100");
        assertThat(d.refusals().stream().map(Selector.Refusal::reason).toList()).containsExactlyInAnyOrder("container_labels", "fields")
                .doesNotHaveDuplicates();
        assertThat(d.labelsCut()).isEqualTo(50);
        assertThat(d.warnings()).anySatisfy(w -> assertThat(w).contains("50 of 150 labels left out (limits.container_labels_max_count 100)"));
    }

    @Test
    void aLabelSetWithinTheLimitsIsNotFlagged() {
        Selector.Decision d = decide("com.example.a", "1", "com.example.b", "x".repeat(1024));
        assertThat(d.refusals()).isEmpty();
        assertThat(d.labelsCut()).isZero();
        Selector.Decision longValue = decide("com.example.a", "x".repeat(1025));
        assertThat(only(longValue).reason()).isEqualTo("container_labels");
        assertThat(only(longValue).message()).contains("1 value cut at 1024 bytes");
        assertThat(longValue.labelsCut()).isEqualTo(1);
    }
}
