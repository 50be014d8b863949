package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.LinePattern;
import io.logferry.model.MultilineType;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class SelectorTest {
    private static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static final String SELF = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    private static Config config;

    @BeforeAll
    static void loadDefaults() throws Exception {
        config = new ConfigLoader(Map.of()).load(null);
    }

    private static ContainerInfo container(String id, Map<String, String> labels) {
        return new ContainerInfo(id, "/app", "busybox:latest", labels, "", "json-file", true);
    }

    private static Map<String, String> labels(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Selector selector(Config.SelectionMode mode, List<String> include, List<String> exclude, boolean excludeSelf) {
        Config c = config;
        return new Selector(new Config(c.docker(), new Config.Selection(mode, include, exclude, excludeSelf), c.defaults(), c.output(),
                c.queue(), c.elasticsearch(), c.labels(), c.limits(), c.setupEnabled(), c.kibanaUrl(), c.registry(),
                c.shutdownTimeout(), c.http(), c.spool()), SELF);
    }

    private static Selector.Decision decide(String... kv) {
        return selector(Config.SelectionMode.OPT_OUT, List.of(), List.of(), true).decide(container(ID, labels(kv)));
    }

    private static ContainerSettings settings(String... kv) {
        Selector.Decision d = decide(kv);
        assertThat(d.selected()).as(d.reason()).isTrue();
        assertThat(d.warnings()).as("warnings for %s", List.of(kv)).isEmpty();
        return d.settings().orElseThrow();
    }

    private static List<String> patterns(List<LinePattern> ps) {
        return ps.stream().map(LinePattern::source).toList();
    }

    // ---- which containers are shipped ----

    static Stream<Arguments> selection() {
        List<String> none = List.of();
        return Stream.of(
                arguments("opt-out, no labels", Config.SelectionMode.OPT_OUT, none, none, labels(), true),
                arguments("opt-out, enable=false", Config.SelectionMode.OPT_OUT, none, none, labels("logferry.enable", "false"), false),
                arguments("opt-out, enable=FALSE", Config.SelectionMode.OPT_OUT, none, none, labels("logferry.enable", " FALSE "), false),
                arguments("opt-out, enable=true", Config.SelectionMode.OPT_OUT, none, none, labels("logferry.enable", "true"), true),
                arguments("opt-out, hint enabled=false", Config.SelectionMode.OPT_OUT, none, none, labels("co.elastic.logs/enabled", "false"), false),
                arguments("opt-out, logferry.enable wins over the hint", Config.SelectionMode.OPT_OUT, none, none,
                        labels("logferry.enable", "true", "co.elastic.logs/enabled", "false"), true),
                arguments("opt-in, no labels", Config.SelectionMode.OPT_IN, none, none, labels(), false),
                arguments("opt-in, enable=true", Config.SelectionMode.OPT_IN, none, none, labels("logferry.enable", "true"), true),
                arguments("opt-in, enable=false", Config.SelectionMode.OPT_IN, none, none, labels("logferry.enable", "false"), false),
                arguments("opt-in, hint enabled=true", Config.SelectionMode.OPT_IN, none, none, labels("co.elastic.logs/enabled", "true"), true),
                arguments("opt-in, logferry.enable=false wins over the hint", Config.SelectionMode.OPT_IN, none, none,
                        labels("logferry.enable", "false", "co.elastic.logs/enabled", "true"), false),
                arguments("include key present", Config.SelectionMode.OPT_OUT, List.of("app"), none, labels("app", "x"), true),
                arguments("include key absent", Config.SelectionMode.OPT_OUT, List.of("app"), none, labels("other", "x"), false),
                arguments("include key=value matches", Config.SelectionMode.OPT_OUT, List.of("tier=web"), none, labels("tier", "web"), true),
                arguments("include key=value differs", Config.SelectionMode.OPT_OUT, List.of("tier=web"), none, labels("tier", "db"), false),
                arguments("include key=value, key absent", Config.SelectionMode.OPT_OUT, List.of("tier=web"), none, labels(), false),
                arguments("include: all must match", Config.SelectionMode.OPT_OUT, List.of("app", "tier=web"), none, labels("app", "1", "tier", "db"), false),
                arguments("include: all match", Config.SelectionMode.OPT_OUT, List.of("app", "tier=web"), none, labels("app", "1", "tier", "web"), true),
                arguments("include key=empty value", Config.SelectionMode.OPT_OUT, List.of("flag="), none, labels("flag", ""), true),
                arguments("include value with '='", Config.SelectionMode.OPT_OUT, List.of("q=a=b"), none, labels("q", "a=b"), true),
                arguments("exclude key present", Config.SelectionMode.OPT_OUT, none, List.of("noship"), labels("noship", ""), false),
                arguments("exclude key absent", Config.SelectionMode.OPT_OUT, none, List.of("noship"), labels(), true),
                arguments("exclude key=value matches", Config.SelectionMode.OPT_OUT, none, List.of("env=test"), labels("env", "test"), false),
                arguments("exclude key=value differs", Config.SelectionMode.OPT_OUT, none, List.of("env=test"), labels("env", "prod"), true),
                arguments("exclude: any match excludes", Config.SelectionMode.OPT_OUT, none, List.of("a", "b"), labels("b", "1"), false),
                arguments("exclude wins over include", Config.SelectionMode.OPT_OUT, List.of("app"), List.of("app=x"), labels("app", "x"), false),
                arguments("opt-in still needs include_labels", Config.SelectionMode.OPT_IN, List.of("app"), none, labels("logferry.enable", "true"), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void selection(String name, Config.SelectionMode mode, List<String> include, List<String> exclude,
                   Map<String, String> labels, boolean selected) {
        Selector.Decision d = selector(mode, include, exclude, true).decide(container(ID, labels));
        assertThat(d.selected()).as(d.reason()).isEqualTo(selected);
        assertThat(d.warnings()).isEmpty();
        assertThat(d.reason()).isNotBlank();
    }

    @Test
    void theAgentsOwnContainerIsExcluded() {
        Selector s = selector(Config.SelectionMode.OPT_OUT, List.of(), List.of(), true);
        assertThat(s.decide(container(SELF, labels())).selected()).isFalse();
        assertThat(s.decide(container(SELF, labels())).reason()).contains("exclude_self");
        // the short id (a hostname) names it too, in either direction
        assertThat(new Selector(config, SELF.substring(0, 12))
                .decide(container(SELF, labels())).selected()).isFalse();
        assertThat(s.decide(container(SELF.substring(0, 12), labels())).selected()).isFalse();
        // even when its labels ask for it
        assertThat(s.decide(container(SELF, labels("logferry.enable", "true"))).selected()).isFalse();
        assertThat(s.decide(container(ID, labels())).selected()).isTrue();
        assertThat(selector(Config.SelectionMode.OPT_OUT, List.of(), List.of(), false).decide(container(SELF, labels())).selected()).isTrue();
        // unknown self: nothing is excluded for it
        assertThat(new Selector(config, "").decide(container(SELF, labels())).selected()).isTrue();
        assertThat(new Selector(config, null).decide(container(SELF, labels())).selected()).isTrue();
    }

    // ---- settings from labels ----

    @Test
    void noLabelsGiveTheDefaults() {
        ContainerSettings s = settings();
        assertThat(s.dataset()).isEqualTo("docker");
        assertThat(s.namespace()).isEqualTo("default");
        assertThat(s.dataStream()).isEqualTo("logs-docker-default");
        assertThat(s.streams()).isEqualTo(Streams.ALL);
        assertThat(s.startPosition()).isEqualTo(StartPosition.BEGINNING);
        assertThat(s.multiline().enabled()).isFalse();
        assertThat(s.json()).isFalse();
        assertThat(s.jsonMessageKey()).isEmpty();
        assertThat(s.maxBytes()).isEqualTo(1048576);
        assertThat(s.includeLines()).isEmpty();
        assertThat(s.excludeLines()).isEmpty();
        assertThat(s.fields()).isEmpty();
    }

    static Stream<Arguments> dataStreamNames() {
        return Stream.of(
                arguments("nginx", "nginx"),
                arguments("Nginx", "nginx"),
                arguments("my-app", "my_app"),
                arguments("my app", "my_app"),
                arguments("  web  ", "web"),
                arguments("a/b\\c*d?e\"f<g>h|i,j#k:l", "a_b_c_d_e_f_g_h_i_j_k_l"),
                arguments("_leading", "leading"),
                arguments("-leading", "leading"),
                arguments(".hidden", "hidden"),
                arguments("+plus", "plus"),
                arguments("x".repeat(150), "x".repeat(100)),
                arguments("é".repeat(60), "é".repeat(50)),
                arguments("café.orders", "café.orders"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource
    void dataStreamNames(String label, String expected) {
        ContainerSettings ds = settings("logferry.dataset", label);
        assertThat(ds.dataset()).isEqualTo(expected);
        assertThat(ds.namespace()).isEqualTo("default");
        ContainerSettings ns = settings("logferry.namespace", label);
        assertThat(ns.namespace()).isEqualTo(expected);
        assertThat(ns.dataStream()).isEqualTo("logs-docker-" + expected);
        assertThat(ns.dataStream().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255);
        assertThat(expected.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(100);
    }

    @Test
    void aDatasetWithNothingValidFallsBackWithOneWarning() {
        Selector.Decision d = decide("logferry.dataset", "---");
        assertThat(d.settings().orElseThrow().dataset()).isEqualTo("docker");
        assertThat(d.warnings()).singleElement().asString().contains("logferry.dataset");
    }

    @Test
    void streamsAndStartPosition() {
        assertThat(settings("logferry.streams", "stdout").streams()).isEqualTo(Streams.STDOUT);
        assertThat(settings("logferry.streams", "STDERR").streams()).isEqualTo(Streams.STDERR);
        assertThat(settings("logferry.streams", "all").streams()).isEqualTo(Streams.ALL);
        ContainerSettings out = settings("logferry.streams", "stdout");
        assertThat(out.ships("stdout")).isTrue();
        assertThat(out.ships("stderr")).isFalse();
        assertThat(settings("logferry.streams", "stderr").ships("stdout")).isFalse();
        assertThat(settings().ships("stderr")).isTrue();
        assertThat(settings("logferry.start_position", "end").startPosition()).isEqualTo(StartPosition.END);
        assertThat(settings("logferry.max_bytes", "2048").maxBytes()).isEqualTo(2048);
    }

    @Test
    void multilineJavaAndPython() {
        ContainerSettings.MultilineRule java = settings("logferry.multiline", "java").multiline();
        assertThat(java.type()).isEqualTo(MultilineType.JAVA);
        assertThat(java.enabled()).isTrue();
        assertThat(java.negate()).isFalse();
        assertThat(java.matchAfter()).isTrue();
        assertThat(java.maxLines()).isEqualTo(500);
        assertThat(java.timeout()).isEqualTo(Duration.ofSeconds(5));
        for (String continuation : List.of("\tat com.example.Foo.bar(Foo.java:10)", "    at java.base/java.lang.Thread.run(Thread.java:1583)",
                "\t... 5 more", "Caused by: java.io.IOException: boom", "\tSuppressed: java.lang.IllegalStateException: x",
                "\t\tat com.example.Foo.close(Foo.java:3)", "\tCaused by: java.lang.Error: nested in a suppressed one")) {
            assertThat(java.pattern().find(continuation)).as(continuation).isTrue();
        }
        for (String start : List.of("2024-01-01 12:00:00 ERROR failed", "java.lang.RuntimeException: boom",
                "Exception in thread \"main\" java.lang.IllegalStateException", "at the beginning of a sentence")) {
            assertThat(java.pattern().find(start)).as(start).isFalse();
        }

        ContainerSettings.MultilineRule python = settings("logferry.multiline", "Python").multiline();
        assertThat(python.type()).isEqualTo(MultilineType.PYTHON);
        for (String continuation : List.of("Traceback (most recent call last):", "  File \"app.py\", line 3, in <module>",
                "    main()", "ZeroDivisionError: division by zero", "",
                "During handling of the above exception, another exception occurred:",
                "The above exception was the direct cause of the following exception:", "requests.exceptions.ConnectionError: refused")) {
            assertThat(python.pattern().find(continuation)).as(continuation).isTrue();
        }
        for (String start : List.of("ERROR:root:request failed", "INFO starting", "2024-01-01 12:00:00,000 worker ready")) {
            assertThat(python.pattern().find(start)).as(start).isFalse();
        }
    }

    @Test
    void multilineCustom() {
        ContainerSettings.MultilineRule r = settings("logferry.multiline", "custom", "logferry.multiline.pattern", "^\\[",
                "logferry.multiline.negate", "true", "logferry.multiline.match", "before",
                "logferry.multiline.max_lines", "20", "logferry.multiline.timeout", "250ms").multiline();
        assertThat(r.type()).isEqualTo(MultilineType.CUSTOM);
        assertThat(r.pattern().source()).isEqualTo("^\\[");
        assertThat(r.negate()).isTrue();
        assertThat(r.matchAfter()).isFalse();
        assertThat(r.maxLines()).isEqualTo(20);
        assertThat(r.timeout()).isEqualTo(Duration.ofMillis(250));

        // a pattern alone means custom
        ContainerSettings.MultilineRule p = settings("logferry.multiline.pattern", "^\\s").multiline();
        assertThat(p.type()).isEqualTo(MultilineType.CUSTOM);
        assertThat(p.negate()).isFalse();
        assertThat(p.matchAfter()).isTrue();
    }

    @Test
    void filebeatMultilineHints() {
        ContainerSettings.MultilineRule r = settings("co.elastic.logs/multiline.pattern", "^\\d{4}-",
                "co.elastic.logs/multiline.negate", "true", "co.elastic.logs/multiline.match", "after").multiline();
        assertThat(r.type()).isEqualTo(MultilineType.CUSTOM);
        assertThat(r.pattern().source()).isEqualTo("^\\d{4}-");
        assertThat(r.negate()).isTrue();
        assertThat(r.matchAfter()).isTrue();

        // logferry.* wins over the hints
        ContainerSettings.MultilineRule both = settings("co.elastic.logs/multiline.pattern", "^\\d{4}-",
                "co.elastic.logs/multiline.negate", "true", "co.elastic.logs/multiline.match", "after",
                "logferry.multiline.pattern", "^\\[", "logferry.multiline.negate", "false", "logferry.multiline.match", "before").multiline();
        assertThat(both.pattern().source()).isEqualTo("^\\[");
        assertThat(both.negate()).isFalse();
        assertThat(both.matchAfter()).isFalse();
        assertThat(settings("co.elastic.logs/multiline.pattern", "^x", "logferry.multiline", "java").multiline().type()).isEqualTo(MultilineType.JAVA);
        assertThat(settings("co.elastic.logs/multiline.pattern", "^x", "logferry.multiline", "none").multiline().enabled()).isFalse();
    }

    @Test
    void json() {
        assertThat(settings("logferry.json", "true").json()).isTrue();
        ContainerSettings k = settings("logferry.json", "true", "logferry.json.message_key", "msg");
        assertThat(k.json()).isTrue();
        assertThat(k.jsonMessageKey()).isEqualTo("msg");
        // Filebeat hints: any json.* option turns decoding on
        ContainerSettings h = settings("co.elastic.logs/json.message_key", "log");
        assertThat(h.json()).isTrue();
        assertThat(h.jsonMessageKey()).isEqualTo("log");
        assertThat(settings("co.elastic.logs/json.keys_under_root", "true").json()).isTrue();
        // ours win
        ContainerSettings w = settings("co.elastic.logs/json.message_key", "log", "logferry.json.message_key", "text");
        assertThat(w.jsonMessageKey()).isEqualTo("text");
        assertThat(settings("co.elastic.logs/json.message_key", "log", "logferry.json", "false").json()).isFalse();
    }

    @Test
    void jsonTarget() {
        assertThat(settings().jsonTarget()).isEmpty();
        assertThat(settings("logferry.json.target", "app").jsonTarget()).isEqualTo("app");
        assertThat(settings("logferry.json.target", "json").jsonTarget()).isEqualTo("json");
        // an ECS or agent name, or no plain name: refused with a warning, the default kept
        for (String bad : new String[] {"host", "data_stream", "service", "Upper", "a.b", "x".repeat(65), "docker"}) {
            Selector.Decision d = decide("logferry.json.target", bad);
            assertThat(d.settings().orElseThrow().jsonTarget()).as(bad).isEmpty();
            assertThat(d.warnings()).as(bad).singleElement().asString().contains("logferry.json.target");
        }
    }

    @Test
    void includeAndExcludeLines() {
        ContainerSettings s = settings("logferry.include_lines", "^ERROR, ^WARN", "logferry.exclude_lines", "healthcheck");
        assertThat(patterns(s.includeLines())).containsExactly("^ERROR", "^WARN");
        assertThat(patterns(s.excludeLines())).containsExactly("healthcheck");
        ContainerSettings h = settings("co.elastic.logs/include_lines", "^a,^b", "co.elastic.logs/exclude_lines", "^c");
        assertThat(patterns(h.includeLines())).containsExactly("^a", "^b");
        assertThat(patterns(h.excludeLines())).containsExactly("^c");
        ContainerSettings w = settings("co.elastic.logs/include_lines", "^a", "logferry.include_lines", "^z");
        assertThat(patterns(w.includeLines())).containsExactly("^z");
        // a comma inside a quantifier or a class does not split the regex
        ContainerSettings q = settings("logferry.include_lines", "^\\d{1,3} ,[,;]x,\\,y");
        assertThat(patterns(q.includeLines())).containsExactly("^\\d{1,3}", "[,;]x", "\\,y");
    }

    @Test
    void fieldsBecomeLabels() {
        ContainerSettings s = settings("logferry.fields.team", "payments", "logferry.fields.cost.center", "42", "logferry.fields.", "x");
        assertThat(s.fields()).containsExactlyInAnyOrderEntriesOf(Map.of("team", "payments", "cost_center", "42"));
    }

    // ---- invalid values: one warning each, naming the label, and the default for that setting ----

    static Stream<Arguments> invalidLabels() {
        Function<ContainerSettings, Object> streams = ContainerSettings::streams;
        Function<ContainerSettings, Object> multiline = ContainerSettings::multiline;
        Function<ContainerSettings, Object> include = s -> patterns(s.includeLines());
        Function<ContainerSettings, Object> exclude = s -> patterns(s.excludeLines());
        return Stream.of(
                arguments("logferry.enable", "maybe", (Function<ContainerSettings, Object>) ContainerSettings::dataset),
                arguments("co.elastic.logs/enabled", "perhaps", (Function<ContainerSettings, Object>) ContainerSettings::dataset),
                arguments("logferry.streams", "both", streams),
                arguments("logferry.start_position", "middle", (Function<ContainerSettings, Object>) ContainerSettings::startPosition),
                arguments("logferry.json", "maybe", (Function<ContainerSettings, Object>) ContainerSettings::json),
                arguments("logferry.max_bytes", "lots", (Function<ContainerSettings, Object>) ContainerSettings::maxBytes),
                arguments("logferry.max_bytes", "-5", (Function<ContainerSettings, Object>) ContainerSettings::maxBytes),
                arguments("logferry.include_lines", "^ok,[unclosed", include),
                arguments("co.elastic.logs/include_lines", "(", include),
                arguments("logferry.exclude_lines", "*bad", exclude),
                arguments("co.elastic.logs/exclude_lines", "(?<=x)y", exclude),      // Java's lookbehind is not RE2
                arguments("logferry.multiline", "sometimes", multiline),
                arguments("logferry.multiline.pattern", "(unclosed", multiline),
                arguments("co.elastic.logs/multiline.pattern", "[", multiline),
                arguments("logferry.multiline.negate", "perhaps", multiline),
                arguments("co.elastic.logs/multiline.negate", "perhaps", multiline),
                arguments("logferry.multiline.match", "sideways", multiline),
                arguments("co.elastic.logs/multiline.match", "sideways", multiline),
                arguments("logferry.multiline.max_lines", "-1", multiline),
                arguments("logferry.multiline.max_lines", "many", multiline),
                arguments("logferry.multiline.timeout", "soon", multiline),
                arguments("logferry.multiline.timeout", "0s", multiline));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource
    void invalidLabels(String label, String value, Function<ContainerSettings, Object> setting) {
        Selector.Decision d = decide(label, value);
        assertThat(d.selected()).as(d.reason()).isTrue();
        assertThat(d.warnings()).singleElement().asString().contains(label).contains(value);
        ContainerSettings defaults = settings();
        ContainerSettings s = d.settings().orElseThrow();
        assertThat(render(setting.apply(s))).isEqualTo(render(setting.apply(defaults)));
    }

    @Test
    void anInvalidLabelNextToValidOnesOnlyLosesItsOwnSetting() {
        Selector.Decision d = decide("logferry.multiline", "java", "logferry.multiline.max_lines", "-1",
                "logferry.streams", "stderr", "logferry.include_lines", "[");
        assertThat(d.warnings()).hasSize(2);
        ContainerSettings s = d.settings().orElseThrow();
        assertThat(s.multiline().type()).isEqualTo(MultilineType.JAVA);
        assertThat(s.multiline().maxLines()).isEqualTo(500);
        assertThat(s.streams()).isEqualTo(Streams.STDERR);
        assertThat(s.includeLines()).isEmpty();
    }

    @Test
    void aBadCustomPatternFallsBackToTheConfiguredMultiline() throws Exception {
        Config javaDefault = new ConfigLoader(Map.of("LOGFERRY_DEFAULTS_MULTILINE", "java")).load(null);
        Selector s = new Selector(javaDefault, "");
        Selector.Decision d = s.decide(container(ID, labels("logferry.multiline.pattern", "(")));
        assertThat(d.warnings()).singleElement().asString().contains("logferry.multiline.pattern");
        assertThat(d.settings().orElseThrow().multiline().type()).isEqualTo(MultilineType.JAVA);
    }

    @Test
    void theSameContainerAlwaysGetsTheSameAnswer() {
        Selector s = selector(Config.SelectionMode.OPT_OUT, List.of(), List.of(), true);
        ContainerInfo c = container(ID, labels("logferry.multiline", "java", "logferry.dataset", "Web-App", "logferry.enable", "maybe"));
        Selector.Decision a = s.decide(c);
        Selector.Decision b = s.decide(c);
        assertThat(render(a.settings().orElseThrow())).isEqualTo(render(b.settings().orElseThrow()));
        assertThat(a.warnings()).isEqualTo(b.warnings());
    }

    /** Patterns have no equals: compare settings by their text. */
    private static String render(Object o) {
        if (o instanceof ContainerSettings.MultilineRule r) {
            return r.type() + "|" + (r.pattern() == null ? null : r.pattern().source()) + "|" + r.negate() + "|" + r.matchAfter()
                    + "|" + r.maxLines() + "|" + r.timeout();
        }
        if (o instanceof ContainerSettings s) {
            return s.dataset() + s.namespace() + s.streams() + s.startPosition() + render(s.multiline()) + s.json() + s.jsonMessageKey()
                    + s.maxBytes() + patterns(s.includeLines()) + patterns(s.excludeLines()) + s.fields();
        }
        return String.valueOf(o);
    }
}
