package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Priority;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code logferry.max_rate} and {@code logferry.priority}: labels are untrusted, so within
 * {@code limits.max_rate} and {@code limits.max_priority}; the weight comes from {@code queue.weights}.
 */
class SelectorShareTest {
    private static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static Config open;
    private static Config bounded;

    @BeforeAll
    static void load() throws Exception {
        open = new ConfigLoader(Map.of()).load(null);
        // the operator's bounds: at most 1000 events a second, nothing above normal; weights 9, 3, 1
        bounded = new ConfigLoader(Map.of("LOGFERRY_LIMITS_MAX_RATE", "1000", "LOGFERRY_LIMITS_MAX_PRIORITY", "normal",
                "LOGFERRY_DEFAULTS_MAX_RATE", "500", "LOGFERRY_QUEUE_WEIGHTS_HIGH", "9", "LOGFERRY_QUEUE_WEIGHTS_NORMAL", "3")).load(null);
    }

    private static Selector.Decision decide(Config c, String key, String value) {
        Map<String, String> labels = new HashMap<>();
        if (!key.isEmpty()) {
            labels.put(key, value);
        }
        return new Selector(c, "").decide(new ContainerInfo(ID, "/app", "busybox:latest", labels, "", "json-file", true));
    }

    @ParameterizedTest(name = "{0}: logferry.max_rate={1} -> {2} ({3})")
    @CsvSource(textBlock = """
            open,    '',                    0,          ''
            open,    100,                   100,        ''
            open,    ' +0100 ',             100,        ''
            open,    1000000000,            1000000000, ''
            open,    1000000001,            1000000000, range
            open,    99999999999999999999,  1000000000, range
            open,    0,                     0,          invalid
            open,    -5,                    0,          invalid
            open,    1.5,                   0,          invalid
            open,    fast,                  0,          invalid
            bounded, '',                    500,        ''
            bounded, 100,                   100,        ''
            bounded, 1000,                  1000,       ''
            bounded, 1001,                  1000,       range
            bounded, 2147483648,            1000,       range
            bounded, 0,                     500,        invalid
            """)
    void maxRateStaysWithinTheOperatorsCeiling(String config, String value, int expected, String refusal) {
        Selector.Decision d = decide(config.equals("open") ? open : bounded, value.isEmpty() ? "" : "logferry.max_rate", value);
        ContainerSettings s = d.settings().orElseThrow();
        assertThat(s.maxRate()).isEqualTo(expected);
        if (refusal.isEmpty()) {
            assertThat(d.refusals()).isEmpty();
        } else {
            assertThat(d.refusals()).singleElement().satisfies(r -> {
                assertThat(r.reason()).isEqualTo(refusal);
                assertThat(r.message()).contains("logferry.max_rate");
            });
        }
    }

    @ParameterizedTest(name = "{0}: logferry.priority={1} -> {2}, weight {3} ({4})")
    @CsvSource(textBlock = """
            open,    '',       NORMAL, 2, ''
            open,    high,     HIGH,   4, ''
            open,    ' LOW ',  LOW,    1, ''
            open,    normal,   NORMAL, 2, ''
            open,    urgent,   NORMAL, 2, invalid
            open,    '',       NORMAL, 2, ''
            bounded, high,     NORMAL, 3, range
            bounded, HIGH,     NORMAL, 3, range
            bounded, normal,   NORMAL, 3, ''
            bounded, low,      LOW,    1, ''
            bounded, 9,        NORMAL, 3, invalid
            """)
    void priorityStaysWithinTheOperatorsCeilingAndGivesItsWeight(String config, String value, Priority expected, int weight,
                                                                   String refusal) {
        Selector.Decision d = decide(config.equals("open") ? open : bounded, value.isEmpty() ? "" : "logferry.priority", value);
        ContainerSettings s = d.settings().orElseThrow();
        assertThat(s.priority()).isEqualTo(expected);
        assertThat(s.weight()).isEqualTo(weight);
        if (refusal.isEmpty()) {
            assertThat(d.refusals()).isEmpty();
        } else {
            assertThat(d.refusals()).singleElement().satisfies(r -> assertThat(r.reason()).isEqualTo(refusal));
        }
    }
}
