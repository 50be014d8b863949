package io.logferry.elasticsearch;

import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class OperatorTargetsTest {
    private final AckTracker tracker = new AckTracker("c1", null);

    private LogEvent event(String index, String pipeline) {
        String action = "{\"create\":{\"_index\":\"" + index + "\"" + (pipeline == null ? "" : ",\"pipeline\":\"" + pipeline + "\"")
                + ",\"_id\":\"x\"}}\n";
        byte[] head = (action + "{\"message\":\"m\"}\n").getBytes(StandardCharsets.UTF_8);
        return new LogEvent(tracker, head, null, action.length(), new Cursor(1, "f", 1), index, -1, -1);
    }

    @ParameterizedTest(name = "operator {0} {1}; event {2} {3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
            # operator's stream | operator's pipeline | event's stream   | event's pipeline | chosen by a label
            logs-docker-default | null                | logs-docker-default | null          | null
            logs-docker-default | null                | logs-docker-team    | null          | logs-docker-team
            logs-docker-default | null                | logs-docker-default | p             | logs-docker-default through ingest pipeline p
            logs-docker-default | ops                 | logs-docker-default | ops           | null
            logs-docker-default | ops                 | logs-docker-default | p             | logs-docker-default through ingest pipeline p
            logs-docker-default | ops                 | logs-nginx-default  | ops           | logs-nginx-default through ingest pipeline ops
            """)
    void aDestinationIsALabelsChoiceWhenItsStreamOrPipelineIsNotTheOperators(String stream, String pipeline, String index,
                                                                              String eventPipeline, String chosen) {
        assertThat(new OperatorTargets(stream, pipeline).labelChosen(event(index, eventPipeline))).isEqualTo(chosen);
    }
}
