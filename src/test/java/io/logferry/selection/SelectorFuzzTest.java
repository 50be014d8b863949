package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.LinePattern;
import io.logferry.model.MultilineType;
import io.logferry.model.Printable;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The label parser against random and hostile label maps: the known keys (and random ones) with
 * random, mutated and hostile values (huge numbers, long strings, control characters, regex
 * fragments, durations that overflow, empty and blank values). For every case: {@link Selector#decide}
 * returns, every setting stays within {@code limits.*}, the data stream is one labels may choose,
 * no refusal is an internal error, and every warning is one short line. Seeded: a failure prints
 * the seed and the case, and {@code -Dfuzz.seed=} replays it.
 */
class SelectorFuzzTest {
    static final int CASES = Integer.getInteger("fuzz.cases", 100_000);

    private static final List<String> KEYS = List.of(
            "logferry.enable", "co.elastic.logs/enabled", "logferry.dataset", "logferry.namespace", "logferry.streams",
            "logferry.start_position", "logferry.json", "logferry.json.message_key", "co.elastic.logs/json.message_key",
            "co.elastic.logs/json.keys_under_root", "logferry.max_bytes", "logferry.include_lines", "logferry.exclude_lines",
            "co.elastic.logs/include_lines", "co.elastic.logs/exclude_lines", "logferry.multiline", "logferry.multiline.pattern",
            "co.elastic.logs/multiline.pattern", "logferry.multiline.negate", "co.elastic.logs/multiline.negate",
            "logferry.multiline.match", "co.elastic.logs/multiline.match", "logferry.multiline.max_lines",
            "co.elastic.logs/multiline.max_lines", "logferry.multiline.timeout", "co.elastic.logs/multiline.timeout",
            "logferry.fields.team", "logferry.fields.a.b", "logferry.fields.", "com.docker.compose.project",
            "com.docker.compose.service", "co.elastic.logs/module", "co.elastic.logs/fileset", "co.elastic.logs/fileset.stdout",
            "co.elastic.logs/fileset.stderr", "co.elastic.logs/pipeline", "logferry.enabled", "co.elastic.logs/enable");
    private static final List<String> WORDS = List.of("true", "false", "yes", "0", "1", "maybe", "all", "stdout", "stderr",
            "beginning", "end", "none", "java", "python", "custom", "after", "before", "docker", "default", "logferry",
            "logferry.deadletter", "deadletter", "nginx", "app1", "prod", "dev-1", "LogFerry.x", "logs", "-", ".", "..", "_x", "+x",
            "access", "error", "redis", "myapp", "${data.container.name}", "${data.container.labels.co.elastic.logs/module}", "${",
            "${data.host}", "${data.container.id}${data.container.id}");
    private static final List<String> REGEX = List.of("(", ")", "*", ".*", "+", "?", "|", "^", "$", "[", "]", "{", "}",
            "{1000}", "{2,3}", "{,5}", "[[:space:]]", "[[:digit:]]+", "(?<=", "(?=", "(?i)", "(?P<n>", "\\", "\\d", "\\1", "\\Q",
            "\\E", "\\p{Lu}", "\\,", ",", "a", "=", "x+x+", "(a{1000})", "[^]", "[a-", "\\z");
    private static final List<String> NUMBERS = List.of("0", "-1", "1", "+1", "500", "10000", "10001", "1048576", "10485760",
            "10485761", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808", "1e9", "0x10", "00000000000000000000001",
            "99999999999999999999999999999999999999", "１２", " 42 ", "4 2");
    private static final List<String> UNITS = List.of("", "ms", "s", "m", "h", "d", "us", "S", " s");

    @Test
    void decideIsTotalAndEverySettingStaysWithinTheLimits() throws Exception {
        long seed = Long.getLong("fuzz.seed", 0x5eed_1abe1L);
        Config open = new ConfigLoader(Map.of()).load(null);
        Config strict = SelectorLimitsTest.with(
                new ConfigLoader(Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", "logs-nginx-prod")).load(null),
                new Config.Labels(List.of("app*", "nginx", "docker"), List.of("prod", "dev*"), 5, List.of("*")));
        Config small = SelectorLimitsTest.with(new ConfigLoader(Map.ofEntries(Map.entry("LOGFERRY_LIMITS_MAX_BYTES", "65536"),
                Map.entry("LOGFERRY_DEFAULTS_MAX_BYTES", "4096"), Map.entry("LOGFERRY_LIMITS_MULTILINE_MAX_LINES", "50"),
                Map.entry("LOGFERRY_DEFAULTS_MULTILINE_MAX_LINES", "20"), Map.entry("LOGFERRY_LIMITS_MULTILINE_MAX_TIMEOUT", "10s"),
                Map.entry("LOGFERRY_LIMITS_REGEX_MAX_LENGTH", "64"), Map.entry("LOGFERRY_LIMITS_REGEX_MAX_COUNT", "4"),
                Map.entry("LOGFERRY_LIMITS_CONTAINER_LABELS_MAX_COUNT", "10"), Map.entry("LOGFERRY_LIMITS_CONTAINER_LABELS_MAX_BYTES", "512"),
                Map.entry("LOGFERRY_DEFAULTS_DATASET", "generic"), Map.entry("LOGFERRY_DEFAULTS_NAMESPACE", "dev_x")))
                .load(null), strict.labels());
        assertThat(small.limits().maxBytes()).isEqualTo(65_536);
        assertThat(small.limits().containerLabelsMaxCount()).isEqualTo(10);
        assertThat(small.defaults().multiline().maxLines()).isEqualTo(20);
        List<Config> configs = List.of(open, strict, small);
        List<Selector> selectors = configs.stream().map(c -> new Selector(c, "")).toList();
        List<DataStreamBudget> budgets = configs.stream().map(DataStreamBudget::new).toList();
        List<Set<String>> streams = List.of(new HashSet<>(), new HashSet<>(), new HashSet<>());

        SplittableRandom r = new SplittableRandom(seed);
        long t0 = System.nanoTime();
        int refusals = 0;
        int selected = 0;
        for (int n = 0; n < CASES; n++) {
            int which = n % configs.size();
            Config config = configs.get(which);
            Map<String, String> labels = labels(r);
            ContainerInfo c = new ContainerInfo(String.format("%064x", n), "/c" + n, "img", labels, "", "json-file", true);
            Selector.Decision d;
            try {
                d = budgets.get(which).apply(selectors.get(which).decide(c));
            } catch (Throwable e) {
                fail("seed " + seed + " case " + n + ": decide threw for " + show(labels), e);
                return;
            }
            String at = "seed " + seed + " case " + n + " labels " + show(labels);
            for (Selector.Refusal f : d.refusals()) {
                refusals++;
                assertThat(f.reason()).as(at).isNotEqualTo(Selector.Refusal.INTERNAL);
                assertThat(f.message()).as(at).hasSizeLessThan(1_500).isEqualTo(Printable.escape(f.message()));
            }
            if (!d.selected()) {
                continue;
            }
            selected++;
            ContainerSettings s = d.settings().orElseThrow();
            Config.Limits lim = config.limits();
            assertThat(s.maxBytes()).as(at).isBetween(1, lim.maxBytes());
            assertThat(s.multiline().maxLines()).as(at).isBetween(1, lim.multilineMaxLines());
            assertThat(s.multiline().timeout()).as(at).isPositive().isLessThanOrEqualTo(lim.multilineMaxTimeout());
            for (List<LinePattern> ps : List.of(s.includeLines(), s.excludeLines())) {
                assertThat(ps.size()).as(at).isLessThanOrEqualTo(lim.regexMaxCount());
                ps.forEach(p -> assertThat(p.source().length()).as(at).isLessThanOrEqualTo(lim.regexMaxLength()));
            }
            if (s.multiline().type() == MultilineType.CUSTOM) {
                assertThat(s.multiline().pattern()).as(at).isNotNull();
                assertThat(s.multiline().pattern().source().length()).as(at).isLessThanOrEqualTo(lim.regexMaxLength());
            }
            assertThat(s.fields().size()).as(at).isLessThanOrEqualTo(lim.containerLabelsMaxCount());
            checkDataStream(config, s, at);
            if (!s.dataStream().equals(Selector.defaultDataStream(config))) {
                streams.get(which).add(s.dataStream());
            }
            if (n % 97 == 0) {
                // the patterns a label chose run in linear time on a long line without a match
                String line = "x".repeat(3_000);
                s.includeLines().forEach(p -> p.find(line));
                s.excludeLines().forEach(p -> p.find(line));
                if (s.multiline().pattern() != null) {
                    s.multiline().pattern().find(line);
                }
            }
        }
        for (int i = 0; i < configs.size(); i++) {
            assertThat(streams.get(i).size()).isLessThanOrEqualTo(configs.get(i).labels().maxDataStreams());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("SelectorFuzzTest: %d cases (seed %d) in %d ms: %d selected, %d refusals, data streams from labels %s%n",
                CASES, seed, ms, selected, refusals, streams.stream().map(Set::size).toList());
        assertThat(CASES).isGreaterThanOrEqualTo(100_000);
    }

    private static void checkDataStream(Config config, ContainerSettings s, String at) {
        String stream = s.dataStream();
        assertThat(stream).as(at).isNotEqualToIgnoringCase(config.elasticsearch().deadLetter());
        if (stream.equals(Selector.defaultDataStream(config))) {
            return;
        }
        for (String part : List.of(s.dataset(), s.namespace())) {
            assertThat(part).as(at).isNotEmpty().isEqualTo(part.toLowerCase(java.util.Locale.ROOT))
                    .doesNotContain("\\", "/", "*", "?", "\"", "<", ">", "|", ",", "#", ":", " ", "-")
                    .doesNotStartWith("_").doesNotStartWith("+").doesNotStartWith(".");
            assertThat(part.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).as(at).isLessThanOrEqualTo(100);
            assertThat(Printable.escape(part)).as(at).isEqualTo(part);
        }
        for (String dataset : s.datasets()) {
            if (!dataset.equals(config.defaults().dataset())) {
                assertThat(dataset).as(at).doesNotStartWith("logferry");
                assertThat(Globs.anyMatches(config.labels().allowedDatasets(), dataset)).as(at).isTrue();
            }
        }
        if (!s.namespace().equals(config.defaults().namespace())) {
            assertThat(Globs.anyMatches(config.labels().allowedNamespaces(), s.namespace())).as(at).isTrue();
        }
    }

    private static Map<String, String> labels(SplittableRandom r) {
        Map<String, String> m = new HashMap<>();
        int count = r.nextInt(8);
        for (int i = 0; i < count; i++) {
            String key = r.nextInt(10) < 8 ? KEYS.get(r.nextInt(KEYS.size())) : text(r, 1 + r.nextInt(30));
            m.put(key, value(r));
        }
        if (r.nextInt(200) == 0) {
            // many labels at once: the container.labels and fields caps
            int many = 100 + r.nextInt(400);
            for (int i = 0; i < many; i++) {
                m.put((r.nextBoolean() ? "logferry.fields.f" : "com.example.") + i, text(r, r.nextInt(100)));
            }
        }
        return m;
    }

    private static String value(SplittableRandom r) {
        return switch (r.nextInt(12)) {
            case 0 -> WORDS.get(r.nextInt(WORDS.size()));
            case 1 -> NUMBERS.get(r.nextInt(NUMBERS.size()));
            case 2 -> NUMBERS.get(r.nextInt(NUMBERS.size())).trim() + UNITS.get(r.nextInt(UNITS.size()));
            case 3 -> digits(r, 1 + r.nextInt(25)) + UNITS.get(r.nextInt(UNITS.size()));
            case 4, 5 -> regex(r, 1 + r.nextInt(r.nextInt(10) == 0 ? 300 : 12));
            case 6 -> text(r, r.nextInt(40));
            case 7 -> r.nextBoolean() ? "" : " \t\n ".substring(r.nextInt(4));
            case 8 -> mutate(r, WORDS.get(r.nextInt(WORDS.size())));
            case 9 -> r.nextInt(20) == 0 ? "(".repeat(20_000) + "a" + ")".repeat(20_000) : "x".repeat(r.nextInt(5_000));
            case 10 -> String.join(",", regex(r, 3), regex(r, 3), regex(r, 3)) + ",".repeat(r.nextInt(3)) + regex(r, 2).repeat(r.nextInt(40));
            default -> mutate(r, NUMBERS.get(r.nextInt(NUMBERS.size())));
        };
    }

    private static String regex(SplittableRandom r, int parts) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < parts; i++) {
            b.append(REGEX.get(r.nextInt(REGEX.size())));
        }
        return b.toString();
    }

    private static String digits(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) ('0' + r.nextInt(10)));
        }
        return b.toString();
    }

    /** Printable text with now and then a control, a C1, a bidi override, a lone surrogate or a non-ASCII letter. */
    private static String text(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(20);
            b.append(k < 14 ? (char) (0x20 + r.nextInt(0x5f)) : switch (k) {
                case 14 -> (char) r.nextInt(0x20);
                case 15 -> (char) (0x7f + r.nextInt(0x21));
                case 16 -> '\u202e';
                case 17 -> (char) (0xd800 + r.nextInt(0x800));
                case 18 -> 'İ';
                default -> (char) (0x100 + r.nextInt(0xd000));
            });
        }
        return b.toString();
    }

    private static String mutate(SplittableRandom r, String s) {
        StringBuilder b = new StringBuilder(s);
        int edits = 1 + r.nextInt(3);
        for (int i = 0; i < edits; i++) {
            int at = b.isEmpty() ? 0 : r.nextInt(b.length() + 1);
            switch (r.nextInt(3)) {
                case 0 -> b.insert(at, text(r, 1));
                case 1 -> {
                    if (at < b.length()) {
                        b.deleteCharAt(at);
                    }
                }
                default -> b.insert(at, REGEX.get(r.nextInt(REGEX.size())));
            }
        }
        return b.toString();
    }

    private static String show(Map<String, String> labels) {
        StringBuilder b = new StringBuilder("{");
        labels.forEach((k, v) -> b.append(Printable.quote(k, 60)).append('=').append(Printable.quote(v, 120)).append(", "));
        return b.append('}').toString();
    }
}
