package io.logferry.config;

import io.logferry.model.Priority;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** {@code defaults.max_rate}, {@code defaults.priority}, {@code queue.weights.*}, {@code limits.max_rate}, {@code limits.max_priority}. */
class FairShareConfigTest {
    @Test
    void theDefaults() throws Exception {
        Config c = new ConfigLoader(Map.of()).load(null);
        assertThat(c.defaults().maxRate()).isZero();
        assertThat(c.defaults().priority()).isEqualTo(Priority.NORMAL);
        assertThat(c.queue().weight(Priority.HIGH)).isEqualTo(4);
        assertThat(c.queue().weight(Priority.NORMAL)).isEqualTo(2);
        assertThat(c.queue().weight(Priority.LOW)).isEqualTo(1);
        assertThat(c.limits().maxRate()).isZero();
        assertThat(c.limits().maxPriority()).isEqualTo(Priority.HIGH);
    }

    @ParameterizedTest(name = "{0}={1} and {2}={3}: {4}")
    @CsvSource(textBlock = """
            LOGFERRY_DEFAULTS_MAX_RATE,     2000,   LOGFERRY_LIMITS_MAX_RATE,       1000,  'defaults.max_rate' (2000) is above limits.max_rate (1000)
            LOGFERRY_DEFAULTS_MAX_RATE,     0,      LOGFERRY_LIMITS_MAX_RATE,       1000,  'defaults.max_rate' (0: no limit) is above limits.max_rate (1000)
            LOGFERRY_DEFAULTS_PRIORITY,     high,   LOGFERRY_LIMITS_MAX_PRIORITY,   normal, 'defaults.priority' (high) is above limits.max_priority (normal)
            LOGFERRY_DEFAULTS_PRIORITY,     urgent, LOGFERRY_LIMITS_MAX_PRIORITY,   high,  defaults.priority
            LOGFERRY_QUEUE_WEIGHTS_HIGH,    101,    LOGFERRY_QUEUE_WEIGHTS_LOW,     1,     'queue.weights.high' must be at most 100
            LOGFERRY_QUEUE_WEIGHTS_LOW,     0,      LOGFERRY_QUEUE_WEIGHTS_HIGH,    4,     queue.weights.low
            LOGFERRY_LIMITS_MAX_RATE,       -1,     LOGFERRY_DEFAULTS_MAX_RATE,     0,     limits.max_rate
            """)
    void outOfRangeValuesAreRefusedNamingTheKey(String key1, String value1, String key2, String value2, String problem) {
        Map<String, String> env = new HashMap<>(Map.of(key1, value1, key2, value2));
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(env).load(null));
        assertThat(e).isNotNull();
        assertThat(String.join("\n", e.problems())).contains(problem);
    }
}
