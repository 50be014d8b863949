package io.logferry.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.logferry.metrics.Metric;
import org.junit.jupiter.api.Test;

/** The catalogue's help texts for the HTTP server's metrics state the server's real bounds. */
class MetricHelpTest {
    @Test
    void helpTextsStateTheBoundsTheServerUses() {
        assertThat(Metric.HTTP_REQUESTS_REFUSED.help())
                .contains("over " + StatusServer.MAX_HEAD + " bytes", "busy (" + StatusServer.MAX_CONNECTIONS + " connections");
        assertThat(Metric.ELASTICSEARCH_UP.help()).contains("every " + StatusServer.PROBE_EVERY.toSeconds() + " s");
    }
}
