package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipeline and processor labels: both hint forms, precedence, the allowlist and the limits. */
class SelectorProcessorsTest {
    private static Config config;

    @BeforeAll
    static void loadDefaults() throws Exception {
        config = new ConfigLoader(Map.of()).load(null);
    }

    private static Selector.Decision decide(Config c, String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return new Selector(c, "").decide(SelectorLimitsTest.container(m));
    }

    private static ContainerSettings settings(Config c, String... kv) {
        return decide(c, kv).settings().orElseThrow();
    }

    private static List<String> chain(String... kv) {
        return settings(config, kv).processors().describe();
    }

    @Test
    void noLabelsNoProcessorsNoPipeline() {
        ContainerSettings s = settings(config);
        assertThat(s.processors().isEmpty()).isTrue();
        assertThat(s.pipeline()).isNull();
    }

    @Test
    void numberedHintsRunInTheOrderOfTheirNumbersThenUnnumberedByKind() {
        assertThat(chain(
                "co.elastic.logs/processors.10.add_tags.tags", "ten",
                "co.elastic.logs/processors.2.dissect.tokenizer", "%{a} %{b}",
                "co.elastic.logs/processors.2.dissect.target_prefix", "",
                "co.elastic.logs/processors.rename.fields.0.from", "a",
                "co.elastic.logs/processors.rename.fields.0.to", "x",
                "co.elastic.logs/processors.add_fields.fields.team", "pay"))
                .containsExactly(
                        "1 dissect tokenizer='%{a} %{b}' target_prefix=''",
                        "2 add_tags target='tags' tags=[ten]",
                        "3 add_fields target='fields' fields={team:'pay'}",
                        "4 rename fields=[a->x]");
    }

    @Test
    void logferryProcessorsReplaceTheHintsWhole() {
        assertThat(chain(
                "co.elastic.logs/processors.1.add_tags.tags", "hint",
                "logferry.processors.1.drop_event.when.equals.stream", "stderr"))
                .containsExactly("1 drop_event when equals.stream='stderr'");
    }

    @Test
    void aRefusedProcessorIsLeftOutNamedAndTheOthersRun() {
        Selector.Decision d = decide(config,
                "co.elastic.logs/processors.1.add_tags.tags", "ok",
                "co.elastic.logs/processors.2.dissect.tokenizer", "%{a}%{b}",
                "co.elastic.logs/processors.3.timestamp.field", "ts",
                "co.elastic.logs/processors.3.timestamp.layouts", "2006-01-02T15:04:05Z07:00",
                "co.elastic.logs/processors.add_fields.fields.team", "pay");
        assertThat(d.settings().orElseThrow().processors().describe()).containsExactly(
                "1 add_tags target='tags' tags=[ok]",
                "2 timestamp field=ts layouts=[2006-01-02T15:04:05Z07:00]",
                "3 add_fields target='fields' fields={team:'pay'}");
        assertThat(d.refusals()).hasSize(1);
        assertThat(d.refusals().get(0).reason()).isEqualTo(Selector.Refusal.PROCESSORS);
        assertThat(d.refusals().get(0).message()).isEqualTo("label co.elastic.logs/processors.2.dissect.*: dissect: "
                + "tokenizer has two keys with nothing between them; left out, the container's other processors apply");
        // an unknown kind, unnumbered: named by its kind
        assertThat(decide(config, "co.elastic.logs/processors.add_tags.tags", "x", "co.elastic.logs/processors.add_docker_metadata.host", "h")
                .warnings()).singleElement().asString()
                .startsWith("label co.elastic.logs/processors.add_docker_metadata.*: processor 'add_docker_metadata' is not one of");
    }

    @Test
    void twoKindsUnderOneNumberAreRefused() {
        Selector.Decision d = decide(config,
                "co.elastic.logs/processors.1.add_tags.tags", "a",
                "co.elastic.logs/processors.1.drop_event.when.equals.a", "b");
        assertThat(d.warnings()).singleElement().asString().contains("co.elastic.logs/processors.1.*: names 2 kinds [add_tags, drop_event]");
        assertThat(d.settings().orElseThrow().processors().isEmpty()).isTrue();
    }

    @Test
    void moreProcessorsThanTheLimitAreRefused() {
        Config.Limits l = config.limits();
        Config two = SelectorLimitsTest.with(config, new Config.Limits(l.maxBytes(), l.multilineMaxLines(), l.multilineMaxTimeout(),
                l.regexMaxLength(), l.regexMaxCount(), l.containerLabelsMaxCount(), l.containerLabelsMaxBytes(),
                l.heldFilesPerContainer(), l.heldBytesTotal(), 2, 16, 3));
        Selector.Decision d = decide(two, "logferry.processors.1.add_tags.tags", "a", "logferry.processors.2.add_tags.tags", "b",
                "logferry.processors.3.add_tags.tags", "c");
        assertThat(d.settings().orElseThrow().processors().describe()).hasSize(2);      // the first two run
        assertThat(d.warnings()).singleElement().asString()
                .contains("logferry.processors.3.*: more than limits.processors_max_count (2)");
        assertThat(decide(two, "logferry.processors.1.add_tags.tags", "a,b,c,d").warnings()).singleElement().asString()
                .contains("limits.processor_max_fields (3)");
        assertThat(decide(two, "logferry.processors.1.dissect.tokenizer", "%{aaaaaaaa} %{bbbbbbbb}").warnings())
                .singleElement().asString().contains("limits.processor_max_value_bytes (16)");
        // what processors can add to every document is bounded as container.labels.* are: 16384 bytes of options together
        Map<String, String> big4 = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            big4.put("co.elastic.logs/processors." + i + ".add_fields.fields.f", "v".repeat(4000));
        }
        Selector.Decision fat = new Selector(config, "").decide(SelectorLimitsTest.container(big4));
        assertThat(fat.settings().orElseThrow().processors().describe()).hasSize(4);
        assertThat(fat.refusals()).filteredOn(r -> r.reason().equals(Selector.Refusal.PROCESSORS)).singleElement()
                .satisfies(r -> assertThat(r.message()).contains("processors.4.add_fields.*: the processor labels are longer than "
                        + "limits.container_labels_max_bytes (16384) together"));
        // a hundred thousand processor labels cost one pass and one warning
        Map<String, String> many = new LinkedHashMap<>();
        for (int i = 0; i < 100_000; i++) {
            many.put("co.elastic.logs/processors." + i + ".add_tags.tags", "t");
        }
        Selector.Decision big = new Selector(config, "").decide(SelectorLimitsTest.container(many));
        assertThat(big.settings().orElseThrow().processors().describe()).hasSize(16);
        assertThat(big.refusals()).filteredOn(r -> r.reason().equals(Selector.Refusal.PROCESSORS)).singleElement()
                .satisfies(r -> assertThat(r.message()).contains("processors.16.* and 99983 processors after it: "
                        + "more than limits.processors_max_count (16)"));
        // a kind as long as a label: the warning names it cut
        assertThat(decide(config, "co.elastic.logs/processors." + "k".repeat(5000) + ".x", "1").warnings()).singleElement().asString()
                .hasSizeLessThan(900).contains("kkk…");
        // as many invalid ones: sixteen named, the rest counted in one more
        Map<String, String> bad = new LinkedHashMap<>();
        for (int i = 0; i < 1000; i++) {
            bad.put("co.elastic.logs/processors." + i + ".nope.x", "t");
        }
        assertThat(new Selector(config, "").decide(SelectorLimitsTest.container(bad)).refusals())
                .filteredOn(r -> r.reason().equals(Selector.Refusal.PROCESSORS)).hasSize(17)
                .last().satisfies(r -> assertThat(r.message()).contains("984 more processors refused"));
    }

    @Test
    void jsonHintsHaveFilebeatsMeaning() {
        // no hint: logferry's own (fields at the root, errors recorded, Docker's time)
        ContainerSettings own = settings(config, "logferry.json", "true");
        assertThat(own.jsonTarget()).isEmpty();
        assertThat(own.jsonOptions()).isEqualTo(io.logferry.model.JsonOptions.LOGFERRY);
        // a json.* hint: Filebeat's defaults: keys under json, no error key, no overwrite
        ContainerSettings hint = settings(config, "co.elastic.logs/json.message_key", "msg");
        assertThat(hint.json()).isTrue();
        assertThat(hint.jsonTarget()).isEqualTo("json");
        assertThat(hint.jsonOptions()).isEqualTo(new io.logferry.model.JsonOptions(false, false));
        ContainerSettings root = settings(config, "co.elastic.logs/json.keys_under_root", "true",
                "co.elastic.logs/json.overwrite_keys", "true", "co.elastic.logs/json.add_error_key", "true",
                "co.elastic.logs/json.expand_keys", "true", "co.elastic.logs/json.ignore_decoding_error", "true");
        assertThat(root.jsonTarget()).isEmpty();
        assertThat(root.jsonOptions()).isEqualTo(new io.logferry.model.JsonOptions(true, true));
        // logferry.json.<option> wins over the hint; logferry.json.target over keys_under_root
        ContainerSettings mixed = settings(config, "co.elastic.logs/json.keys_under_root", "true",
                "logferry.json.keys_under_root", "false", "logferry.json.add_error_key", "false", "co.elastic.logs/json.add_error_key", "true");
        assertThat(mixed.jsonTarget()).isEqualTo("json");
        assertThat(mixed.jsonOptions().addErrorKey()).isFalse();
        assertThat(settings(config, "co.elastic.logs/json.keys_under_root", "false", "logferry.json.target", "app").jsonTarget()).isEqualTo("app");
        // an invalid boolean: a warning, the default
        Selector.Decision bad = decide(config, "co.elastic.logs/json.overwrite_keys", "maybe");
        assertThat(bad.settings().orElseThrow().jsonOptions().overwriteKeys()).isFalse();
        assertThat(bad.warnings()).singleElement().asString().contains("co.elastic.logs/json.overwrite_keys='maybe' is not true or false");
    }

    @Test
    void pipelineLabelWinsOverTheHintWhichWinsOverTheDefault() {
        assertThat(settings(config, "co.elastic.logs/pipeline", "nginx").pipeline()).isEqualTo("nginx");
        assertThat(settings(config, "co.elastic.logs/pipeline", "nginx", "logferry.pipeline", " mine ").pipeline()).isEqualTo("mine");
        Config.ContainerDefaults d = config.defaults();
        Config withDefault = new Config(config.docker(), config.selection(), new Config.ContainerDefaults(d.dataset(), d.namespace(),
                d.streams(), d.startPosition(), d.multiline(), d.json(), d.jsonMessageKey(), d.maxBytes(), d.includeLines(),
                d.excludeLines(), "base", d.jsonTarget()), config.output(), config.queue(), config.elasticsearch(), config.labels(), config.limits(),
                config.setupEnabled(), config.kibanaUrl(), config.registry(), config.shutdownTimeout(), config.http(), config.spool());
        assertThat(settings(withDefault).pipeline()).isEqualTo("base");
        assertThat(settings(withDefault, "logferry.pipeline", "other").pipeline()).isEqualTo("other");
    }

    @Test
    void pipelinesOutsideTheAllowlistFallBackToTheNextChoice() {
        Config only = SelectorLimitsTest.with(config, new Config.Labels(List.of("*"), List.of("*"), 50, List.of("logs-*", "nginx")));
        Selector.Decision d = decide(only, "logferry.pipeline", "evil", "co.elastic.logs/pipeline", "nginx");
        assertThat(d.settings().orElseThrow().pipeline()).isEqualTo("nginx");
        assertThat(d.refusals()).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(Selector.Refusal.PIPELINE);
            assertThat(r.message()).isEqualTo("label logferry.pipeline='evil' is not in labels.allowed_pipelines [logs-*, nginx]; "
                    + "using the hint co.elastic.logs/pipeline");
        });
        assertThat(settings(only, "co.elastic.logs/pipeline", "logs-app").pipeline()).isEqualTo("logs-app");
        assertThat(decide(only, "co.elastic.logs/pipeline", "x\ny").warnings()).singleElement().asString()
                .isEqualTo("label co.elastic.logs/pipeline='x\\ny' has control characters or spaces; using no pipeline");
        assertThat(decide(config, "logferry.pipeline", " ").warnings()).singleElement().asString().contains("is empty");
        assertThat(decide(config, "logferry.pipeline", "p".repeat(513)).warnings()).singleElement().asString()
                .contains("longer than 512 bytes");
    }

    @Test
    void processorsAndPipelineSurviveAnotherDataStream() {
        ContainerSettings s = settings(config, "logferry.pipeline", "p", "logferry.processors.1.add_tags.tags", "t");
        ContainerSettings other = s.withDataStream("x", "y");
        assertThat(other.pipeline()).isEqualTo("p");
        assertThat(other.processors()).isEqualTo(s.processors());
    }
}
