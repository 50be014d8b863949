package io.logferry.process;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.fail;

/**
 * Labels and log lines are hostile: random processor options (from fragments of the syntax) either
 * compile or are refused with {@link Compiler.Invalid}, never another exception; what compiles runs
 * on random events without throwing. Plain JUnit with a seeded {@link Random}: the seed is printed
 * on a failure, {@code -Dfuzz.seed=} replays it.
 */
class ProcessorsFuzzTest {
    private static final String[] TOKENS = {"%{", "}", "%{a}", "%{+a}", "%{&a}", "%{?a}", "%{*a}", "%{}", "->", "/", "/2", "|integer",
            "|double", "|boolean", ".", "..", " ", "  ", "-", ",", "a", "b", "x.y", "[", "]", "\"", "\\", "é", "\u0000", "\n", "%", "{",
            "{\"a\":", "{\"a\":1}", "[1,", "2006", "01", "02", "15:04:05", "Z07:00", ".999", ".000", "Jan", "_2", "MST", "UNIX", "UNIX_MS",
            "1e9", "9999999999999", "%20", "%zz", "+", "aGk=", "1h", "ms", "*", "$1", "(a)", "0", "1", "true"};
    private static final String[] KINDS = {"dissect", "add_fields", "add_tags", "drop_fields", "rename", "drop_event", "grok",
            "decode_json_fields", "timestamp", "convert", "copy_fields", "truncate_fields", "replace", "add_labels", "include_fields",
            "move_fields", "append", "decode_base64_field", "decode_csv_fields", "extract_array", "urldecode", "decode_duration",
            "fingerprint"};
    private static final String[] OPTIONS = {"tokenizer", "field", "target_prefix", "ignore_failure", "overwrite_keys", "trim_values",
            "trim_chars", "fields", "fields.a", "fields.x.y", "fields.0.from", "fields.0.to", "fields.1.from", "tags", "target",
            "ignore_missing", "fail_on_error", "when.equals.message", "when.contains.a", "when.regexp.message", "when.has_fields",
            "when.and.0.equals.a", "when.or.1.not.contains.b", "when.not.regexp.x.y", "when", "when.and", "when.and.x", "",
            "process_array", "max_depth", "add_error_key", "expand_keys", "layouts", "timezone", "target_field", "test", "fields.0.type",
            "mode", "max_bytes", "max_characters", "fields.0.field", "fields.0.pattern", "fields.0.replacement", "labels.a", "from", "to",
            "exclude", "values", "allow_duplicate", "field.from", "field.to", "fields.message", "separator", "mappings.a", "mappings.x.y",
            "format", "omit_empty", "trim_leading_space", "method", "encoding"};

    @Test
    void compilingAndRunningNeverThrow() {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        Random r = new Random(seed);
        Compiler.Bounds b = new Compiler.Bounds(256, 16, 64);
        int compiled = 0;
        int cases = 20_000;
        try {
            for (int i = 0; i < cases; i++) {
                Map<String, String> o = new LinkedHashMap<>();
                String kind;
                if (r.nextBoolean()) {
                    // half the cases: a dissect with only a random tokenizer (most compile), sometimes trimmed
                    kind = "dissect";
                    o.put("tokenizer", text(r, 12));
                    if (r.nextBoolean()) {
                        o.put("trim_values", "all");
                        o.put("ignore_failure", "true");
                    }
                } else {
                    kind = KINDS[r.nextInt(KINDS.length)];
                    int n = 1 + r.nextInt(4);
                    for (int j = 0; j < n; j++) {
                        o.put(OPTIONS[r.nextInt(OPTIONS.length)], text(r, 8));
                    }
                }
                Object p;
                try {
                    p = Compiler.processor(kind, o, b);
                } catch (Compiler.Invalid e) {
                    continue;
                }
                compiled++;
                Chain c = new Chain(List.of((Processor) p));
                for (int k = 0; k < 5; k++) {
                    Map<String, Object> ev = new LinkedHashMap<>();
                    ev.put("message", text(r, 16));
                    if (r.nextBoolean()) {
                        ev.put("a", r.nextBoolean() ? text(r, 3) : (Object) (long) r.nextInt(5));
                    }
                    if (r.nextInt(4) == 0) {
                        ev.put("a", new java.util.ArrayList<>(List.of(text(r, 3), (long) r.nextInt(5))));
                    }
                    if (r.nextBoolean()) {
                        Map<String, Object> x = new LinkedHashMap<>();
                        x.put("y", text(r, 3));
                        ev.put("x", x);
                    }
                    c.apply(ev);
                }
            }
        } catch (RuntimeException | StackOverflowError e) {
            fail("seed " + seed + ": " + e, e);
        }
        System.out.println("processors fuzz: " + cases + " option sets (seed " + seed + "), " + compiled + " compiled and ran on 5 events each");
    }

    private static String text(Random r, int maxTokens) {
        StringBuilder s = new StringBuilder();
        int n = r.nextInt(maxTokens + 1);
        for (int i = 0; i < n; i++) {
            s.append(TOKENS[r.nextInt(TOKENS.length)]);
        }
        return s.toString();
    }
}
