package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Filebeat's module and fileset hints, ${data.*} in hint values, and the warnings for labels that name nothing. */
class SelectorHintsTest {
    private static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static Config config;

    @BeforeAll
    static void loadDefaults() throws Exception {
        config = new ConfigLoader(Map.of()).load(null);
    }

    private static Map<String, String> labels(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static ContainerInfo container(Map<String, String> labels) {
        return new ContainerInfo(ID, "web-1", "nginx:1.27", labels, "", "json-file", true);
    }

    private static Selector.Decision decide(Config c, String... kv) {
        return new Selector(c, "").decide(container(labels(kv)));
    }

    private static Selector.Decision decide(String... kv) {
        return decide(config, kv);
    }

    private static ContainerSettings settings(String... kv) {
        Selector.Decision d = decide(kv);
        assertThat(d.selected()).as(d.reason()).isTrue();
        assertThat(d.warnings()).as("warnings for %s", List.of(kv)).isEmpty();
        return d.settings().orElseThrow();
    }

    private static List<String> reasons(Selector.Decision d) {
        return d.refusals().stream().map(Selector.Refusal::reason).toList();
    }

    // ---- modules ----

    @Test
    void moduleAndFilesetNameTheDataStream() {
        ContainerSettings s = settings("co.elastic.logs/module", "nginx", "co.elastic.logs/fileset", "access");
        assertThat(s.module()).isEqualTo("nginx");
        assertThat(s.dataset()).isEqualTo("nginx.access");
        assertThat(s.stderrDataset()).isNull();
        assertThat(s.dataStreams()).containsExactly("logs-nginx.access-default");
        assertThat(s.dataStream("stderr")).isEqualTo("logs-nginx.access-default");
    }

    @Test
    void filesetPerStream() {
        ContainerSettings s = settings("co.elastic.logs/module", "nginx", "co.elastic.logs/fileset.stdout", "access",
                "co.elastic.logs/fileset.stderr", "error");
        assertThat(s.dataStream("stdout")).isEqualTo("logs-nginx.access-default");
        assertThat(s.dataStream("stderr")).isEqualTo("logs-nginx.error-default");
        assertThat(s.dataStreams()).containsExactly("logs-nginx.access-default", "logs-nginx.error-default");
        // a per-stream fileset wins over the one for both
        ContainerSettings t = settings("co.elastic.logs/module", "nginx", "co.elastic.logs/fileset", "access",
                "co.elastic.logs/fileset.stderr", "error");
        assertThat(t.dataStreams()).containsExactly("logs-nginx.access-default", "logs-nginx.error-default");
    }

    @ParameterizedTest(name = "{0}: stdout {1}, stderr {2}")
    @CsvSource({
            "nginx, nginx.access, nginx.error",
            "apache, apache.access, apache.error",
            "redis, redis.log, redis.log",
            "traefik, traefik.access, traefik.access",
            "elasticsearch, elasticsearch.server, elasticsearch.server",
            "coredns, coredns.log, coredns.log",
            "mysql, mysql.error, mysql.error",
            "postgresql, postgresql.log, postgresql.log",
            "mongodb, mongodb.log, mongodb.log",
            "haproxy, haproxy.log, haproxy.log",
            "kafka, kafka.log, kafka.log",
            "' NGINX ', nginx.access, nginx.error",
    })
    void moduleWithoutFilesetTakesTheTable(String module, String stdout, String stderr) {
        ContainerSettings s = settings("co.elastic.logs/module", module);
        assertThat(s.dataset("stdout")).isEqualTo(stdout);
        assertThat(s.dataset("stderr")).isEqualTo(stderr);
        assertThat(s.module()).isEqualTo(module.trim().toLowerCase(java.util.Locale.ROOT));
    }

    @Test
    void everyModuleOfTheTableHasItsDefaultsAmongItsFilesets() {
        Modules.TABLE.forEach((name, m) -> {
            assertThat(m.filesets()).as(name).contains(m.stdout(), m.stderr());
            assertThat(settings("co.elastic.logs/module", name).dataStream()).isEqualTo("logs-" + name + "." + m.stdout() + "-default");
        });
    }

    @Test
    void unknownModuleNeedsAFileset() {
        ContainerSettings s = settings("co.elastic.logs/module", "myapp", "co.elastic.logs/fileset.stderr", "errors");
        assertThat(s.dataStreams()).containsExactly("logs-myapp.errors-default");     // the one fileset for both streams
        Selector.Decision d = decide("co.elastic.logs/module", "myapp");
        assertThat(reasons(d)).containsExactly("invalid");
        assertThat(d.warnings().get(0)).contains("is not a module logferry maps without co.elastic.logs/fileset");
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
        assertThat(d.settings().orElseThrow().module()).isNull();
    }

    @Test
    void filesetTheModuleDoesNotHaveFallsBackToTheStreamsDefault() {
        Selector.Decision d = decide("co.elastic.logs/module", "nginx", "co.elastic.logs/fileset", "acess");
        assertThat(reasons(d)).containsExactly("invalid");
        assertThat(d.warnings().get(0)).contains("is not a fileset of module nginx [access, error, ingress_controller]");
        assertThat(d.settings().orElseThrow().dataStreams()).containsExactly("logs-nginx.access-default", "logs-nginx.error-default");
    }

    @Test
    void hostileModuleNamesAreRefused() {
        for (String bad : List.of("", "ng-inx", "../x", "ngi\nnx", "a".repeat(65), "logs-x-y", "ngin*")) {
            Selector.Decision d = decide("co.elastic.logs/module", bad, "co.elastic.logs/fileset", "access");
            assertThat(d.settings().orElseThrow().dataStream()).as(bad).isEqualTo("logs-docker-default");
            assertThat(d.settings().orElseThrow().module()).isNull();
            assertThat(reasons(d)).as(bad).contains("invalid");
        }
        Selector.Decision d = decide("co.elastic.logs/module", "nginx", "co.elastic.logs/fileset", "ac cess");
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-nginx.access-default");
    }

    @Test
    void moduleDatasetOutsideTheAllowedOnesGoesToTheDefaultStream() {
        Config c = SelectorLimitsTest.with(config, new Config.Labels(List.of("nginx.access", "app*"), List.of("*"), 50, List.of("*")));
        assertThat(decide(c, "co.elastic.logs/module", "nginx", "co.elastic.logs/fileset", "access").refusals()).isEmpty();
        Selector.Decision d = decide(c, "co.elastic.logs/module", "redis");
        assertThat(reasons(d)).containsExactly("dataset");
        assertThat(d.warnings().get(0)).contains("'redis.log' is not in labels.allowed_datasets [nginx.access, app*]; using docker");
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
        assertThat(d.settings().orElseThrow().module()).isNull();
        // one stream outside: the container's lines all go to the default stream
        Selector.Decision both = decide(c, "co.elastic.logs/module", "nginx");
        assertThat(reasons(both)).containsExactly("dataset");
        assertThat(both.settings().orElseThrow().dataStreams()).containsExactly("logs-docker-default");
    }

    @Test
    void moduleCannotNameLogferrysOwnDatasets() {
        Selector.Decision d = decide("co.elastic.logs/module", "logferry", "co.elastic.logs/fileset", "deadletter");
        assertThat(reasons(d)).containsExactly("dataset");
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
    }

    @Test
    void filesetWithoutModuleIsWarned() {
        Selector.Decision d = decide("co.elastic.logs/fileset", "access");
        assertThat(d.warnings()).containsExactly("label co.elastic.logs/fileset='access' is given without co.elastic.logs/module; using no module");
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
    }

    @Test
    void aModuleCannotNameTheDeadLetterStream() throws Exception {
        Config c = new ConfigLoader(Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", "logs-nginx.error-default")).load(null);
        Selector.Decision d = decide(c, "co.elastic.logs/module", "nginx");
        assertThat(reasons(d)).containsExactly("dead_letter");
        assertThat(d.settings().orElseThrow().dataStreams()).containsExactly("logs-docker-default");
    }

    @Test
    void logferryDatasetWinsOverTheModule() {
        ContainerSettings s = settings("logferry.dataset", "web", "co.elastic.logs/module", "nginx");
        assertThat(s.dataStreams()).containsExactly("logs-web-default");
        assertThat(s.module()).isNull();
    }

    @Test
    void namespaceAppliesToTheModulesStreams() {
        ContainerSettings s = settings("co.elastic.logs/module", "nginx", "logferry.namespace", "prod");
        assertThat(s.dataStreams()).containsExactly("logs-nginx.access-prod", "logs-nginx.error-prod");
    }

    @Test
    void theDataStreamCapCountsBothStreams() {
        Config c = SelectorLimitsTest.with(config, new Config.Labels(List.of("*"), List.of("*"), 1, List.of("*")));
        DataStreamBudget budget = new DataStreamBudget(c);
        Selector.Decision d = budget.apply(decide(c, "co.elastic.logs/module", "nginx"));
        assertThat(reasons(d)).containsExactly("data_stream_cap");
        assertThat(d.settings().orElseThrow().dataStreams()).containsExactly("logs-docker-default");
        assertThat(d.settings().orElseThrow().module()).isNull();
    }

    // ---- ${data.*} ----

    @Test
    void dataVariablesExpandInHints() {
        Selector.Decision d = decide("co.elastic.logs/module", "myapp", "co.elastic.logs/fileset", "${data.container.labels.tier}",
                "tier", "front");
        assertThat(d.refusals()).isEmpty();
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-myapp.front-default");
        ContainerInfo c = container(Map.of());
        assertThat(HintVariables.lookup(c, "data.container.id")).isEqualTo(ID);
        assertThat(HintVariables.lookup(c, "data.container.name")).isEqualTo("web-1");
        assertThat(HintVariables.lookup(c, "data.container.image")).isEqualTo("nginx:1.27");
        assertThat(HintVariables.lookup(c, "data.docker.container.name")).isEqualTo("web-1");
        assertThat(HintVariables.lookup(c, "data.container.image.name")).isEqualTo("nginx:1.27");
        assertThat(HintVariables.lookup(c, "data.host")).isNull();
        Map<String, String> in = labels("co.elastic.logs/processors.add_tags.tags", "a-${data.container.name}-${data.container.id}",
                "logferry.service", "${data.container.name}", "app", "${data.container.name}");
        HintVariables.Expanded x = HintVariables.expand(c, in);
        assertThat(x.warnings()).isEmpty();
        assertThat(x.labels().get("co.elastic.logs/processors.add_tags.tags")).isEqualTo("a-web-1-" + ID);
        // logferry.* labels and other labels are not expanded
        assertThat(x.labels().get("logferry.service")).isEqualTo("${data.container.name}");
        assertThat(x.labels().get("app")).isEqualTo("${data.container.name}");
    }

    @Test
    void unknownVariablesAreLeftAsWrittenWithAWarning() {
        ContainerInfo c = container(labels("x", "1"));
        for (String v : List.of("${data.host}:80", "${data.container.labels.missing}", "${env.HOME}", "abc ${data.container.name",
                "${}")) {
            HintVariables.Expanded x = HintVariables.expand(c, labels("co.elastic.logs/pipeline", v));
            assertThat(x.labels().get("co.elastic.logs/pipeline")).as(v).isEqualTo(v);
            assertThat(x.warnings()).as(v).hasSize(1);
            assertThat(x.warnings().get(0)).contains("which logferry does not expand").contains("left as written");
        }
        // a known one beside an unknown one: the known one is expanded
        HintVariables.Expanded x = HintVariables.expand(c, labels("co.elastic.logs/pipeline", "${data.container.labels.x}-${data.port}"));
        assertThat(x.labels().get("co.elastic.logs/pipeline")).isEqualTo("1-${data.port}");
        Selector.Decision d = decide("co.elastic.logs/processors.add_tags.tags", "${data.host}");
        assertThat(reasons(d)).containsExactly("variable");
    }

    @Test
    void expansionIsOnePassAndBounded() {
        // a label that names itself, or a variable, stays as written: what a variable gives is not expanded again
        ContainerInfo self = container(labels("co.elastic.logs/pipeline", "${data.container.labels.co.elastic.logs/pipeline}",
                "loop", "${data.container.labels.loop}"));
        HintVariables.Expanded x = HintVariables.expand(self, self.labels());
        assertThat(x.labels().get("co.elastic.logs/pipeline")).isEqualTo("${data.container.labels.co.elastic.logs/pipeline}");
        HintVariables.Expanded y = HintVariables.expand(self, labels("co.elastic.logs/pipeline", "${data.container.labels.loop}"));
        assertThat(y.labels().get("co.elastic.logs/pipeline")).isEqualTo("${data.container.labels.loop}");
        // a 40 KB label referenced a thousand times: not expanded, one warning, fast
        String big = "x".repeat(40_000);
        String many = "${data.container.labels.big}".repeat(1000);
        ContainerInfo c = container(labels("big", big, "co.elastic.logs/pipeline", many));
        long t0 = System.nanoTime();
        HintVariables.Expanded z = HintVariables.expand(c, c.labels());
        assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);     // a hang guard, not a speed claim
        assertThat(z.labels().get("co.elastic.logs/pipeline")).isEqualTo(many);
        assertThat(z.warnings()).singleElement().asString().contains("expands to more than 4096 characters; left as written");
        // and through the selector: the pipeline hint is then refused as any too-long value is, the container shipped
        Selector.Decision d = new Selector(config, "").decide(c);
        assertThat(d.selected()).isTrue();
        assertThat(reasons(d)).contains("variable", "pipeline");
    }

    // ---- labels that name nothing ----

    @Test
    void unknownLogferryLabelNamesTheNearest() {
        Selector.Decision d = decide("logferry.enabled", "false");
        assertThat(d.selected()).isTrue();      // shipped: the label names nothing, but now with a warning
        assertThat(reasons(d)).containsExactly("unknown_label");
        assertThat(d.warnings().get(0)).isEqualTo(
                "label 'logferry.enabled' is not a logferry label and is ignored; did you mean logferry.enable?");
        assertThat(decide("logferry.multline.pattern", "^x").warnings().get(0)).endsWith("did you mean logferry.multiline.pattern?");
        assertThat(decide("logferry.something_else_entirely", "1").warnings().get(0))
                .isEqualTo("label 'logferry.something_else_entirely' is not a logferry label and is ignored");
    }

    @Test
    void unknownHintNamesTheNearest() {
        Selector.Decision d = decide("co.elastic.logs/enable", "false");
        assertThat(d.selected()).isTrue();
        assertThat(d.warnings()).containsExactly(
                "label 'co.elastic.logs/enable' is not a Filebeat hint logferry knows and is ignored; did you mean co.elastic.logs/enabled?");
        assertThat(decide("co.elastic.logs/raw", "[]").warnings().get(0)).contains("a Filebeat hint logferry does not apply");
        assertThat(decide("co.elastic.logs/multiline.flush_pattern", "x").warnings().get(0)).contains("multiline option logferry does not apply");
    }

    @Test
    void knownLabelsGiveNoWarning() {
        settings("logferry.enable", "true", "logferry.fields.team", "a", "logferry.processors.add_tags.tags", "x",
                "co.elastic.logs/json.keys_under_root", "true", "co.elastic.logs/processors.add_tags.tags", "y",
                "co.elastic.logs/module", "nginx", "co.elastic.logs/fileset.stdout", "access", "co.elastic.logs/fileset.stderr", "error",
                "co.elastic.logs/enabled", "true", "co.elastic.logs/multiline.pattern", "^x", "com.docker.compose.service", "web",
                "logferry.multiline.timeout", "2s");
        for (String k : Selector.KNOWN) {
            assertThat(reasonsOfKey("logferry." + k)).as(k).doesNotContain("unknown_label");
        }
    }

    private static List<String> reasonsOfKey(String key) {
        return reasons(decide(key, "x"));
    }

    @Test
    void labelsTheConfigsSelectionNamesAreNotUnknown() throws Exception {
        Config c = new ConfigLoader(Map.of("LOGFERRY_SELECTION_INCLUDE_LABELS", "logferry.team=a",
                "LOGFERRY_SELECTION_EXCLUDE_LABELS", "logferry.skip")).load(null);
        Selector.Decision d = decide(c, "logferry.team", "a", "logferry.tema", "b");
        assertThat(d.warnings()).containsExactly("label 'logferry.tema' is not a logferry label and is ignored");
        // a container the selection leaves out gets no warnings for its labels
        assertThat(decide(c, "logferry.team", "b", "logferry.enabled", "false").warnings()).isEmpty();
    }

    @Test
    void unknownLabelWarningsAreBounded() {
        Map<String, String> many = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            many.put("logferry.x" + i, "1");
        }
        many.put("logferry." + "y".repeat(100_000), "1");
        Selector.Decision d = new Selector(config, "").decide(container(many));
        assertThat(d.selected()).isTrue();
        assertThat(d.refusals().stream().filter(r -> r.reason().equals("unknown_label"))).hasSize(Selector.UNKNOWN_MAX + 1);
    }
}
