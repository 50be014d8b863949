package io.logferry.model;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class ContainerLabelsTest {

    @Test
    void theFirstLabelsByKeyAreKeptUpToTheCount() {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < 12; i++) {
            m.put("k" + (char) ('a' + i), "v");
        }
        ContainerLabels.Cut c = ContainerLabels.cap(m, 5, 16_384);
        assertThat(c.kept().keySet()).containsExactly("ka", "kb", "kc", "kd", "ke");
        assertThat(c.dropped()).isEqualTo(7);
        assertThat(c.describe(12)).isEqualTo("7 of 12 labels left out (limits.container_labels_max_count 5)");
    }

    @Test
    void bytesOfKeysAndValuesAreCountedInUtf8() {
        // "a": "ééé" is 1 + 6 bytes; "b": "x" 2; "c": "y" 2 -> 7 + 2 fits in 9, c does not
        ContainerLabels.Cut c = ContainerLabels.cap(Map.of("a", "ééé", "b", "x", "c", "y"), 100, 9);
        assertThat(c.kept()).containsOnlyKeys("a", "b");
        assertThat(c.dropped()).isEqualTo(1);
        assertThat(c.why()).isEqualTo("limits.container_labels_max_bytes 9");
        // once a label does not fit, no later one is kept (even a smaller one): the kept set is a prefix by key
        ContainerLabels.Cut d = ContainerLabels.cap(Map.of("a", "x".repeat(20), "b", "y".repeat(200), "c", "z"), 100, 100);
        assertThat(d.kept()).containsOnlyKeys("a");
        assertThat(d.dropped()).isEqualTo(2);
    }

    @Test
    void dotsBecomeUnderscoresAndCollisionsOrBlankKeysAreLeftOut() {
        ContainerLabels.Cut c = ContainerLabels.cap(Map.of("com.example.a", "1", "com_example_a", "2", "", "3", " ", "4"), 100, 16_384);
        assertThat(c.kept()).containsExactly(Map.entry("com_example_a", "1"));
        assertThat(c.dropped()).isEqualTo(3);
        assertThat(c.why()).isEqualTo("blank or colliding keys");
    }

    @Test
    void longValuesAreCutAtACharacterBoundary() {
        String v = "é".repeat(600);                       // 1200 bytes
        ContainerLabels.Cut c = ContainerLabels.cap(Map.of("k", v), 100, 16_384);
        assertThat(c.kept().get("k").getBytes(StandardCharsets.UTF_8)).hasSize(1024);
        assertThat(c.truncated()).isEqualTo(1);
        assertThat(c.dropped()).isZero();
        assertThat(c.describe(1)).isEqualTo("1 value cut at 1024 bytes");
        String emoji = "a" + "\ud83d\ude00".repeat(300);   // 1 + 1200 bytes: the cut falls inside a pair
        String cut = ContainerLabels.cap(Map.of("k", emoji), 100, 16_384).kept().get("k");
        assertThat(cut.getBytes(StandardCharsets.UTF_8).length).isEqualTo(1021);
        assertThat(Character.isHighSurrogate(cut.charAt(cut.length() - 1))).isFalse();
    }

    @Test
    void randomLabelSetsStayWithinBothLimits() {
        long seed = 424242L;
        SplittableRandom r = new SplittableRandom(seed);
        for (int n = 0; n < 2_000; n++) {
            Map<String, String> m = new HashMap<>();
            int count = r.nextInt(300);
            for (int i = 0; i < count; i++) {
                m.put(random(r, 1 + r.nextInt(40)), random(r, r.nextInt(r.nextBoolean() ? 50 : 3000)));
            }
            int maxCount = 1 + r.nextInt(150);
            int maxBytes = 1 + r.nextInt(20_000);
            ContainerLabels.Cut c = ContainerLabels.cap(m, maxCount, maxBytes);
            long bytes = c.kept().entrySet().stream()
                    .mapToLong(e -> e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length)
                    .sum();
            assertThat(c.kept().size()).as("seed %d case %d", seed, n).isLessThanOrEqualTo(maxCount);
            assertThat(bytes).as("seed %d case %d", seed, n).isLessThanOrEqualTo(maxBytes);
            assertThat(c.kept().size() + c.dropped()).as("seed %d case %d", seed, n).isEqualTo(m.size());
            assertThat(c.kept().values()).allSatisfy(v -> assertThat(v.getBytes(StandardCharsets.UTF_8).length)
                    .isLessThanOrEqualTo(ContainerLabels.MAX_VALUE_BYTES));
        }
    }

    private static String random(SplittableRandom r, int len) {
        StringBuilder b = new StringBuilder(len);
        for (int i = 0; i < len; i++) {
            int k = r.nextInt(10);
            b.append(k < 6 ? (char) ('a' + r.nextInt(26)) : k < 7 ? '.' : k < 9 ? (char) (0x80 + r.nextInt(0x700)) : 'é');
        }
        return b.toString();
    }
}
