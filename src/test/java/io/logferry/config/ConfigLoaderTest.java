package io.logferry.config;

import io.logferry.model.MultilineMatch;
import io.logferry.model.MultilineType;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        Path f = dir.resolve("logferry.yml");
        Files.writeString(f, text);
        return f;
    }

    private static Config load(Map<String, String> env, Path file) throws ConfigException {
        return new ConfigLoader(env).load(file);
    }

    private List<String> problems(Map<String, String> env, String text) throws IOException {
        Path f = yaml(text);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(env, f));
        assertThat(e).as("a ConfigException for:\n" + text).isNotNull();
        assertThat(e.getMessage()).isEqualTo(String.join("\n", e.problems()));
        return e.problems();
    }

    @Test
    void theSpoolSitsBesideTheRegistryUnlessToldOtherwiseAndItsLimitMustBePositive() throws Exception {
        assertThat(load(Map.of(), null).spool()).isEqualTo(new Config.Spool("/var/lib/logferry/spool", 1L << 30));
        assertThat(load(Map.of("LOGFERRY_REGISTRY_PATH", "/data/lf/registry.json"), null).spool().path()).isEqualTo("/data/lf/spool");
        assertThat(load(Map.of(), yaml("spool:\n  path: /mnt/spool\n  max_bytes: 1000\n")).spool())
                .isEqualTo(new Config.Spool("/mnt/spool", 1000));
        assertThat(load(Map.of(), null).limits().heldFilesPerContainer()).as("the contract's default, the spool takes the rest").isEqualTo(4);
        assertThat(problems(Map.of(), "spool:\n  max_bytes: 0\n")).singleElement().asString().contains("spool.max_bytes");
        assertThat(load(Map.of(), yaml("spool:\n  max_segments_per_container: 50\n")).spool().maxSegmentsPerContainer()).isEqualTo(50);
        assertThat(load(Map.of(), null).spool().maxSegmentsPerContainer()).isEqualTo(1000);
        assertThat(problems(Map.of(), "spool:\n  max_segments_per_container: 0\n")).singleElement().asString()
                .contains("spool.max_segments_per_container");
    }

    @Test
    void fieldLimitsHaveElasticsearchsDefaultsAndARange() throws Exception {
        assertThat(load(Map.of(), null).limits().fieldLimits()).isEqualTo(io.logferry.model.FieldTree.Limits.DEFAULTS);
        assertThat(load(Map.of(), yaml("limits:\n  field_max_depth: 8\n  field_max_count: 50\n  field_max_key_bytes: 64\n"))
                .limits().fieldLimits()).isEqualTo(new io.logferry.model.FieldTree.Limits(8, 50, 64));
        assertThat(problems(Map.of(), "limits:\n  field_max_depth: 3\n")).singleElement().asString()
                .contains("limits.field_max_depth").contains("between 4 and 100");
        assertThat(problems(Map.of(), "limits:\n  field_max_key_bytes: 8\n")).singleElement().asString()
                .contains("limits.field_max_key_bytes");
        assertThat(problems(Map.of(), "limits:\n  field_max_count: 0\n")).isNotEmpty();
    }

    @Test
    void dockerTlsVerifyIsABooleanInTheFileAndFullOrNoneInTheCode() throws Exception {
        assertThat(load(Map.of(), null).docker().tlsVerify()).isEqualTo(Config.TlsVerify.FULL);
        assertThat(load(Map.of(), yaml("docker:\n  tls:\n    verify: false\n")).docker().tlsVerify()).isEqualTo(Config.TlsVerify.NONE);
        assertThat(load(Map.of("LOGFERRY_DOCKER_TLS_VERIFY", "false"), null).docker().tlsVerify()).isEqualTo(Config.TlsVerify.NONE);
    }

    @Test
    void multilineWordsAreExactAndTheMessageListsThem() throws Exception {
        Config c = load(Map.of(), yaml("defaults:\n  multiline:\n    type: custom\n    pattern: '^x'\n    match: before\n"));
        assertThat(c.defaults().multiline().type()).isEqualTo(MultilineType.CUSTOM);
        assertThat(c.defaults().multiline().match()).isEqualTo(MultilineMatch.BEFORE);
        assertThat(problems(Map.of(), "defaults:\n  multiline:\n    type: Java\n    match: later\n")).containsExactly(
                "config: key 'defaults.multiline.type' must be one of none, java, python, custom, got 'Java'",
                "config: key 'defaults.multiline.match' must be one of after, before, got 'later'");
    }

    @Test
    void defaultsMatchDesign() throws Exception {
        Config c = load(Map.of(), null);
        assertThat(c.docker().host()).isEqualTo("unix:///var/run/docker.sock");
        assertThat(c.docker().containersPath()).isEqualTo("/var/lib/docker/containers");
        assertThat(c.docker().readMode()).isEqualTo(Config.ReadMode.AUTO);
        assertThat(c.selection().mode()).isEqualTo(Config.SelectionMode.OPT_OUT);
        assertThat(c.selection().includeLabels()).isEmpty();
        assertThat(c.selection().excludeLabels()).isEmpty();
        assertThat(c.selection().excludeSelf()).isTrue();
        Config.ContainerDefaults d = c.defaults();
        assertThat(d.dataset()).isEqualTo("docker");
        assertThat(d.namespace()).isEqualTo("default");
        assertThat(d.streams()).isEqualTo(Streams.ALL);
        assertThat(d.startPosition()).isEqualTo(StartPosition.BEGINNING);
        assertThat(d.multiline().type()).isEqualTo(MultilineType.NONE);
        assertThat(d.json()).isFalse();
        assertThat(d.maxBytes()).isEqualTo(1048576);
        assertThat(d.includeLines()).isEmpty();
        assertThat(d.excludeLines()).isEmpty();
        assertThat(c.output()).isEqualTo(Config.Output.ELASTICSEARCH);
        assertThat(c.queue()).isEqualTo(new Config.Queue(8192, 67108864L));
        Config.Elasticsearch es = c.elasticsearch();
        assertThat(es.hosts()).containsExactly("http://localhost:9200");
        assertThat(es.username()).isEmpty();
        assertThat(es.password()).isEmpty();
        assertThat(es.apiKey()).isEmpty();
        assertThat(es.tlsVerify()).isEqualTo(Config.TlsVerify.FULL);
        assertThat(es.bulkMaxEvents()).isEqualTo(1600);
        assertThat(es.bulkMaxBytes()).isEqualTo(10485760L);
        assertThat(es.flushInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(es.workers()).isEqualTo(2);
        assertThat(es.backoffInitial()).isEqualTo(Duration.ofSeconds(1));
        assertThat(es.backoffMax()).isEqualTo(Duration.ofSeconds(60));
        assertThat(es.deadLetter()).isEqualTo("logs-logferry.deadletter-default");
        assertThat(c.setupEnabled()).isTrue();
        assertThat(c.kibanaUrl()).isEmpty();
        assertThat(c.registry()).isEqualTo(new Config.Registry("/var/lib/logferry/registry.json", Duration.ofSeconds(1)));
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.http()).isEqualTo(new Config.Http(true, "127.0.0.1", 5066, Duration.ofMinutes(5)));
    }

    @Test
    void theRepositoryConfigFileIsExactlyTheDefaults() throws Exception {
        Path repoFile = Path.of("config/logferry.yml");
        assertThat(repoFile).exists();
        assertThat(load(Map.of(), repoFile)).isEqualTo(load(Map.of(), null));
    }

    @Test
    void anEmptyFileIsTheDefaults() throws Exception {
        assertThat(load(Map.of(), yaml(""))).isEqualTo(load(Map.of(), null));
        assertThat(load(Map.of(), yaml("# only a comment\n"))).isEqualTo(load(Map.of(), null));
    }

    @Test
    void aSectionWithAllItsKeysCommentedOutKeepsItsDefaults() throws Exception {
        assertThat(load(Map.of(), yaml("elasticsearch:\n#  hosts: [http://es:9200]\n"))).isEqualTo(load(Map.of(), null));
    }

    @Test
    void userValuesOverrideTheDefaults() throws Exception {
        Config c = load(Map.of(), yaml("""
                selection:
                  mode: opt-in
                  include_labels: [app, "tier=web"]
                elasticsearch:
                  hosts: [http://es1:9200, https://es2:9243]
                  bulk_max_events: 50
                  flush_interval: 250ms
                defaults:
                  exclude_lines: ['^DEBUG']
                http:
                  port: 0
                """));
        assertThat(c.selection().mode()).isEqualTo(Config.SelectionMode.OPT_IN);
        assertThat(c.selection().includeLabels()).containsExactly("app", "tier=web");
        assertThat(c.elasticsearch().hosts()).containsExactly("http://es1:9200", "https://es2:9243");
        assertThat(c.elasticsearch().bulkMaxEvents()).isEqualTo(50);
        assertThat(c.elasticsearch().flushInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.defaults().excludeLines()).containsExactly("^DEBUG");
        assertThat(c.http().port()).isZero();
    }

    @Test
    void anUnknownKeyIsNamedWithItsPath() throws Exception {
        assertThat(problems(Map.of(), "elasticsearch:\n  bulk_max_evnts: 10\n"))
                .singleElement().asString().contains("'elasticsearch.bulk_max_evnts'").contains("unknown");
        assertThat(problems(Map.of(), "outptu: discard\n"))
                .singleElement().asString().contains("'outptu'");
        assertThat(problems(Map.of(), "defaults:\n  multiline:\n    patern: x\n"))
                .singleElement().asString().contains("'defaults.multiline.patern'");
    }

    @Test
    void theJsonTargetIsEmptyJsonOrAPlainNameNoEcsNameTakes() throws Exception {
        assertThat(load(Map.of(), yaml("defaults:\n  json_target: app\n")).defaults().jsonTarget()).isEqualTo("app");
        assertThat(load(Map.of(), yaml("")).defaults().jsonTarget()).isEmpty();
        assertThat(problems(Map.of(), "defaults:\n  json_target: service\n"))
                .singleElement().asString().contains("'defaults.json_target'").contains("service");
    }

    @Test
    void aValueOfTheWrongKindNamesTheKey() throws Exception {
        assertThat(problems(Map.of(), "elasticsearch:\n  bulk_max_events: many\n"))
                .singleElement().asString().contains("'elasticsearch.bulk_max_events'").contains("whole number").contains("many");
        assertThat(problems(Map.of(), "selection:\n  exclude_self: [true]\n"))
                .singleElement().asString().contains("'selection.exclude_self'").contains("true or false");
        assertThat(problems(Map.of(), "queue:\n  max_bytes: 1.5\n"))
                .singleElement().asString().contains("'queue.max_bytes'");
        assertThat(problems(Map.of(), "elasticsearch:\n  tls: full\n"))
                .singleElement().asString().contains("'elasticsearch.tls'").contains("mapping");
        assertThat(problems(Map.of(), "http:\n  enabled: maybe\n"))
                .singleElement().asString().contains("'http.enabled'");
    }

    @Test
    void everyProblemIsReportedAtOnce() throws Exception {
        List<String> p = problems(Map.of(), """
                elasticsearch:
                  bulk_max_evnts: 10
                  workers: lots
                selection:
                  mode: sometimes
                registry:
                  flush_interval: soon
                defaults:
                  exclude_lines: ['(unclosed']
                """);
        assertThat(p).hasSize(5);
        assertThat(String.join("\n", p))
                .contains("'elasticsearch.bulk_max_evnts'")
                .contains("'elasticsearch.workers'")
                .contains("'selection.mode'")
                .contains("'registry.flush_interval'")
                .contains("'defaults.exclude_lines'");
        assertThat(p).allSatisfy(line -> assertThat(line).doesNotContain("\n"));
    }

    @Test
    void variablesAreSubstitutedFromTheEnvironment() throws Exception {
        Config c = load(Map.of("ES", "http://es.example:9200", "USER", "shipper", "PW", "p#ss: 'x\""), yaml("""
                elasticsearch:
                  hosts: [${ES}, "${OTHER:-http://fallback:9200}"]
                  username: ${USER}
                  password: ${PW}
                  api_key: ${KEY:-}
                  workers: ${WORKERS:-4}
                kibana:
                  url: http://${KIBANA_HOST:-kibana}:5601
                """));
        assertThat(c.elasticsearch().hosts()).containsExactly("http://es.example:9200", "http://fallback:9200");
        assertThat(c.elasticsearch().username()).isEqualTo("shipper");
        assertThat(c.elasticsearch().password()).isEqualTo("p#ss: 'x\"");
        assertThat(c.elasticsearch().apiKey()).isEmpty();
        assertThat(c.elasticsearch().workers()).isEqualTo(4);
        assertThat(c.kibanaUrl()).isEqualTo("http://kibana:5601");
    }

    @Test
    void anUnsetVariableIsAProblemNamingIt() throws Exception {
        assertThat(problems(Map.of(), "elasticsearch:\n  password: ${ES_PASSWORD}\n"))
                .singleElement().asString().contains("ES_PASSWORD").contains("elasticsearch.password");
    }

    @Test
    void variablesInCommentsAreIgnored() throws Exception {
        Config c = load(Map.of(), yaml("# set ${ES_PASSWORD} in the environment\nkibana:\n  url: \"\"   # or ${KIBANA}\n"));
        assertThat(c).isEqualTo(load(Map.of(), null));
    }

    @Test
    void environmentVariablesOverrideKeys() throws Exception {
        Config c = load(Map.of(
                "LOGFERRY_ELASTICSEARCH_HOSTS", "http://a:9200,http://b:9200",
                "LOGFERRY_ELASTICSEARCH_BULK_MAX_EVENTS", "77",
                "LOGFERRY_ELASTICSEARCH_API_KEY", "secret",
                "LOGFERRY_SELECTION_MODE", "opt-in",
                "LOGFERRY_DEFAULTS_MULTILINE", "java",
                "LOGFERRY_HTTP_ENABLED", "false"), null);
        assertThat(c.elasticsearch().hosts()).containsExactly("http://a:9200", "http://b:9200");
        assertThat(c.elasticsearch().bulkMaxEvents()).isEqualTo(77);
        assertThat(c.elasticsearch().apiKey()).isEqualTo("secret");
        assertThat(c.elasticsearch().toString()).doesNotContain("secret");
        assertThat(c.selection().mode()).isEqualTo(Config.SelectionMode.OPT_IN);
        assertThat(c.defaults().multiline().type()).isEqualTo(MultilineType.JAVA);
        assertThat(c.http().enabled()).isFalse();
    }

    @Test
    void environmentWinsOverTheFile() throws Exception {
        Config c = load(Map.of("LOGFERRY_ELASTICSEARCH_WORKERS", "8"), yaml("elasticsearch:\n  workers: 3\n"));
        assertThat(c.elasticsearch().workers()).isEqualTo(8);
    }

    @Test
    void aBadEnvironmentValueNamesTheKeyAndTheVariable() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> load(Map.of("LOGFERRY_ELASTICSEARCH_BULK_MAX_EVENTS", "lots"), null));
        assertThat(e.problems()).singleElement().asString()
                .contains("elasticsearch.bulk_max_events").contains("LOGFERRY_ELASTICSEARCH_BULK_MAX_EVENTS");
    }

    @Test
    void badEnumDurationAndRegexAreRefused() throws Exception {
        assertThat(problems(Map.of(), "selection:\n  mode: sometimes\n"))
                .singleElement().asString().contains("'selection.mode'").contains("opt-out").contains("sometimes");
        assertThat(problems(Map.of(), "elasticsearch:\n  flush_interval: soon\n"))
                .singleElement().asString().contains("'elasticsearch.flush_interval'").contains("soon");
        assertThat(problems(Map.of(), "defaults:\n  exclude_lines: ['^ok', '[unclosed']\n"))
                .singleElement().asString().contains("'defaults.exclude_lines'").contains("[unclosed");
        assertThat(problems(Map.of(), "defaults:\n  multiline: sometimes\n"))
                .singleElement().asString().contains("'defaults.multiline.type'");
        assertThat(problems(Map.of(), "defaults:\n  multiline:\n    type: custom\n    pattern: '('\n"))
                .singleElement().asString().contains("'defaults.multiline.pattern'");
        assertThat(problems(Map.of(), "elasticsearch:\n  hosts: [es:9200]\n"))
                .singleElement().asString().contains("'elasticsearch.hosts'");
        assertThat(problems(Map.of(), "http:\n  port: 70000\n"))
                .singleElement().asString().contains("'http.port'");
        assertThat(problems(Map.of(), "http:\n  port: 4294972362\n"))
                .singleElement().asString().contains("'http.port'");
        assertThat(problems(Map.of(), "queue:\n  max_events: 0\n"))
                .singleElement().asString().contains("'queue.max_events'");
    }

    @Test
    void multilineShorthandInYaml() throws Exception {
        Config c = load(Map.of(), yaml("defaults:\n  multiline: java\n"));
        assertThat(c.defaults().multiline().type()).isEqualTo(MultilineType.JAVA);
        assertThat(c.defaults().multiline().maxLines()).isEqualTo(500);
        assertThat(c.defaults().multiline().timeout()).isEqualTo(Duration.ofSeconds(5));

        Config full = load(Map.of(), yaml("""
                defaults:
                  multiline:
                    type: custom
                    pattern: '^\\['
                    negate: true
                    match: before
                    max_lines: 20
                    timeout: 2s
                """));
        assertThat(full.defaults().multiline())
                .isEqualTo(new Config.Multiline(MultilineType.CUSTOM, "^\\[", true, MultilineMatch.BEFORE, 20, Duration.ofSeconds(2)));
    }

    @Test
    void invalidYamlIsOneProblem() throws Exception {
        assertThat(problems(Map.of(), "elasticsearch: [unclosed\n")).singleElement().asString().contains("not valid YAML");
        assertThat(problems(Map.of(), "- a\n- b\n")).singleElement().asString().contains("mapping");
    }

    @Test
    void aMissingFileIsAProblem() {
        assertThatThrownBy(() -> load(Map.of(), dir.resolve("nope.yml")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope.yml");
    }

    @Test
    void oneLoaderCanLoadTwice() throws Exception {
        ConfigLoader loader = new ConfigLoader(Map.of());
        Path bad = yaml("nope: 1\n");
        assertThatThrownBy(() -> loader.load(bad)).isInstanceOf(ConfigException.class);
        assertThat(loader.load(null)).isEqualTo(load(Map.of(), null));
    }

    @Test
    void durations() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("7")).isEqualTo(Duration.ofSeconds(7));
        assertThat(Durations.parse(" 5m ")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> Durations.parse("soon")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("soon");
        assertThatThrownBy(() -> Durations.parse("-1s")).isInstanceOf(IllegalArgumentException.class);
    }
}
