package io.logferry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The catalogue: names unique and well formed, each one documented for operators. */
class MetricTest {
    @Test
    void namesAreUniqueAndFollowTheConventions() {
        assertThat(Arrays.stream(Metric.values()).map(Metric::metricName)).doesNotHaveDuplicates();
        for (Metric m : Metric.values()) {
            assertThat(m.metricName()).as(m.name()).matches("logferry_[a-z_]+");
            assertThat(m.metricName().endsWith("_total")).as(m.metricName()).isEqualTo(m.type() == Metric.Type.COUNTER);
            assertThat(m.help()).as(m.metricName()).isNotBlank();
            assertThat(Metric.named(m.metricName())).isSameAs(m);
        }
        assertThat(Metric.named("logferry_no_such_thing")).isNull();
    }

    @Test
    void everyMetricIsInTheOperationsGuide() throws Exception {
        String guide = Files.readString(Path.of("docs/operations.md"));
        for (Metric m : Metric.values()) {
            assertThat(guide).as("docs/operations.md lists %s", m.metricName()).contains("`" + m.metricName());
        }
    }
}
