package io.logferry.it;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The extra-node helper itself: a node starts, answers, stops and starts again with its data. */
class EsNodeIT {
    @Test
    void aNodeStopsAndStartsWithItsData() throws Exception {
        try (EsNode node = EsNode.single("selftest")) {
            node.start();
            Es es = new Es(node.url());
            es.request("PUT", "/_index_template/t", "{\"index_patterns\":[\"logs-t-*\"],\"data_stream\":{}}");
            es.request("POST", "/logs-t-x/_doc?refresh=true", "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"m\":1}");
            assertThat(es.count("logs-t-x")).isEqualTo(1);
            node.stop();
            assertThat(node.answers()).isFalse();
            node.start();
            assertThat(es.count("logs-t-x")).isEqualTo(1);
        }
    }
}
