package io.logferry.model;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rules of the one field tree: dots are nesting, the later wins, and the three bounds. */
class FieldTreeTest {
    private static final FieldTree.Limits SMALL = new FieldTree.Limits(4, 10, 16);

    private static Map<String, Object> tree(FieldTree.Limits limits, Object... kv) {
        Map<String, Object> in = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            in.put((String) kv[i], kv[i + 1]);
        }
        return FieldTree.of(in, limits).root();
    }

    @Test
    void dotsAreNestingMergedWithObjects() {
        assertThat(tree(FieldTree.Limits.DEFAULTS, "log.logger", "a", "log", Map.of("origin", "b"), "x..y.", 1, ".z", 2))
                .isEqualTo(Map.of("log", Map.of("logger", "a", "origin", "b"), "x", Map.of("y", 1L), "z", 2L));
        assertThat(tree(FieldTree.Limits.DEFAULTS, "...", 1, "", 2)).as("names of dots alone stay as they are")
                .isEqualTo(Map.of("...", 1L, "", 2L));
    }

    @Test
    void theLaterWinsWhateverTheForm() {
        assertThat(tree(FieldTree.Limits.DEFAULTS, "container", "x", "container.name", "payments"))
                .isEqualTo(Map.of("container", Map.of("name", "payments")));
        assertThat(tree(FieldTree.Limits.DEFAULTS, "container.name", "payments", "container", "x"))
                .isEqualTo(Map.of("container", "x"));
        assertThat(tree(FieldTree.Limits.DEFAULTS, "a", Map.of("b", 1L), "a.c", 2L, "a.b", 3L))
                .isEqualTo(Map.of("a", Map.of("b", 3L, "c", 2L)));
    }

    @Test
    void deeperNamesStayFlatOnTheDeepestLevel() {
        long before = FieldTree.Cut.DEPTH.total();
        Map<String, Object> t = tree(SMALL, "a.b.c.d.e.f", 1, "x", Map.of("y", Map.of("z", Map.of("w", Map.of("v", 2L)))));
        assertThat(t).isEqualTo(Map.of("a", Map.of("b", Map.of("c", Map.of("d.e.f", 1L))),
                "x", Map.of("y", Map.of("z", Map.of("w.v", 2L)))));
        assertThat(FieldTree.Cut.DEPTH.total()).isGreaterThan(before);
        // an array on the deepest level, or an object inside an array there, is left out
        assertThat(tree(SMALL, "a.b.c.d", List.of(1L), "p", List.of(List.of(List.of(List.of(Map.of("q", 1L)))))))
                .isEqualTo(Map.of("a", Map.of("b", Map.of("c", Map.of())), "p", List.of(List.of(List.of()))));
    }

    @Test
    void fieldsBeyondTheCountAreLeftOutAndLongKeysCut() {
        Map<String, Object> in = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            in.put("f" + i, (long) i);
        }
        long before = FieldTree.Cut.COUNT.total();
        Map<String, Object> t = FieldTree.of(in, SMALL).root();
        assertThat(t).hasSize(10).containsKeys("f0", "f9").doesNotContainKey("f10");
        assertThat(FieldTree.Cut.COUNT.total() - before).isEqualTo(20);
        assertThat(tree(SMALL, "k".repeat(40), 1).keySet()).containsExactly("k".repeat(16));
        assertThat(tree(SMALL, "é".repeat(20), 1).keySet()).containsExactly("é".repeat(8));
    }

    @Test
    void aHugeDottedNameCostsTheLevelsItKeeps() {
        String key = "k" + ".k".repeat(150_000);
        Map<String, Object> t = tree(FieldTree.Limits.DEFAULTS, key, "v");
        Object at = t;
        int levels = 0;
        while (at instanceof Map<?, ?> m && m.size() == 1 && m.values().iterator().next() instanceof Map<?, ?>) {
            at = m.values().iterator().next();
            levels++;
        }
        assertThat(levels).isEqualTo(19);
        assertThat(((Map<?, ?>) at).keySet().iterator().next().toString()).startsWith("k.k.k").hasSize(1024);
    }

    @Test
    void aDeepTreeIsCopiedWithoutRecursion() {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> at = root;
        for (int i = 0; i < 100_000; i++) {
            Map<String, Object> next = new LinkedHashMap<>();
            at.put("n", next);
            at = next;
        }
        at.put("leaf", 1L);
        Map<String, Object> t = FieldTree.of(root, FieldTree.Limits.DEFAULTS).root();
        assertThat(t).containsKey("n");
    }

    @Test
    void limitsAreChecked() {
        assertThatThrownBy(() -> new FieldTree.Limits(3, 10, 16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FieldTree.Limits(101, 10, 16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FieldTree.Limits(20, 0, 16)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FieldTree.Limits(20, 10, 15)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void getAndRemoveFollowDots() {
        Map<String, Object> t = tree(FieldTree.Limits.DEFAULTS, "log.level", "info", "a", "x");
        assertThat(FieldTree.get(t, "log.level")).isEqualTo("info");
        assertThat(FieldTree.get(t, "a.b")).isNull();
        assertThat(FieldTree.remove(t, "log.level")).isEqualTo("info");
        assertThat(t).as("an emptied object goes too").isEqualTo(Map.of("a", "x"));
    }
}
