package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.Streams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

class DataStreamBudgetTest {
    private static Config config;

    @BeforeAll
    static void load() throws Exception {
        Config c = new ConfigLoader(Map.of()).load(null);
        config = SelectorLimitsTest.with(c, new Config.Labels(List.of("*"), List.of("*"), 3, List.of("*")));
    }

    private static ContainerInfo container(int i, Map<String, String> labels) {
        return new ContainerInfo(String.format("%064x", i), "/c" + i, "busybox", labels, "", "json-file", true);
    }

    @Test
    void streamsBeyondTheCapGoToTheDefaultStreamWithARefusal() {
        Selector selector = new Selector(config, "");
        DataStreamBudget budget = new DataStreamBudget(config);
        List<String> streams = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Selector.Decision d = budget.apply(selector.decide(container(i, Map.of("logferry.namespace", "n" + i))));
            streams.add(d.settings().orElseThrow().dataStream());
            if (i >= 3) {
                assertThat(d.refusals()).singleElement().satisfies(r -> {
                    assertThat(r.reason()).isEqualTo("data_stream_cap");
                    assertThat(r.message()).contains("logs-docker-n").contains("labels.max_data_streams (3");
                });
            } else {
                assertThat(d.refusals()).isEmpty();
            }
        }
        assertThat(streams).containsExactly("logs-docker-n0", "logs-docker-n1", "logs-docker-n2",
                "logs-docker-default", "logs-docker-default", "logs-docker-default");
        assertThat(budget.size()).isEqualTo(3);
        // a stream admitted before stays admitted; the default stream never counts
        assertThat(budget.admit("logs-docker-n1")).isTrue();
        assertThat(budget.admit("logs-docker-default")).isTrue();
        assertThat(budget.admit("logs-other-x")).isFalse();
        // the settings other than the stream are kept
        Selector.Decision d = budget.apply(selector.decide(container(9, Map.of("logferry.dataset", "z", "logferry.streams", "stderr"))));
        assertThat(d.settings().orElseThrow().streams()).isEqualTo(Streams.STDERR);
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
    }

    @Test
    void aCapOfZeroKeepsEveryContainerOnTheDefaultStream() {
        Config zero = SelectorLimitsTest.with(config, new Config.Labels(List.of("*"), List.of("*"), 0, List.of("*")));
        DataStreamBudget budget = new DataStreamBudget(zero);
        Selector.Decision d = budget.apply(new Selector(zero, "").decide(container(1, Map.of("logferry.dataset", "nginx"))));
        assertThat(d.settings().orElseThrow().dataStream()).isEqualTo("logs-docker-default");
        assertThat(budget.apply(new Selector(zero, "").decide(container(2, Map.of()))).refusals()).isEmpty();
    }

    @Test
    void concurrentAdmissionsNeverExceedTheCap() throws Exception {
        Config fifty = SelectorLimitsTest.with(config, new Config.Labels(List.of("*"), List.of("*"), 50, List.of("*")));
        DataStreamBudget budget = new DataStreamBudget(fifty);
        Set<String> admitted = ConcurrentHashMap.newKeySet();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 500; i++) {
                    String s = "logs-d-n" + ((i * 7 + base * 13) % 200);
                    if (budget.admit(s)) {
                        admitted.add(s);
                    }
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(10_000);
        }
        assertThat(admitted).hasSize(50);
        assertThat(budget.size()).isEqualTo(50);
    }
}
