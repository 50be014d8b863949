package io.logferry.pipeline;

import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DiscardOutputTest {
    @Test
    void everyEventIsAcknowledgedOnceAndCounted() {
        Metrics metrics = new Metrics();
        AckTracker a = new AckTracker("a", null);
        AckTracker b = new AckTracker("b", null);
        List<LogEvent> batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            AckTracker t = i < 4 ? a : b;
            LogEvent e = new LogEvent(t, new byte[] {'x', '\n'}, 0, new Cursor(1, "f", (i + 1) * 10L));
            t.published(e);
            batch.add(e);
        }
        try (Output out = new DiscardOutput(metrics)) {
            out.deliver(batch);
            assertThat(out.problem()).isNull();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertThat(a.outstanding()).isZero();
        assertThat(b.outstanding()).isZero();
        assertThat(a.committed().offset()).isEqualTo(40);
        assertThat(b.committed().offset()).isEqualTo(60);
        assertThat(metrics.value("logferry_events_acked_total")).isEqualTo(6);
    }
}
