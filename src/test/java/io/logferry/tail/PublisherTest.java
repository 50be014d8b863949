package io.logferry.tail;

import io.logferry.model.TestSettings;
import io.logferry.decode.Message;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import io.logferry.pipeline.EventQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PublisherTest {
    private final AckTracker tracker = new AckTracker("c1", null);
    private final EventQueue queue = new EventQueue(1000, 1 << 24);
    private final Metrics metrics = new Metrics();
    private final Publisher publisher = new Publisher(tracker, queue, builder(), metrics, true);

    private static DocumentBuilder builder() {
        ContainerInfo c = new ContainerInfo("c1", "/web", "nginx", Map.of(), null, "json-file", true);
        ContainerSettings s = TestSettings.plain();
        return new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0", "a", "h"), null);
    }

    private static Message message(long start, long end) {
        return new Message("stdout", "2024-05-01T10:00:00Z", "line", new Cursor(1, "F", start), new Cursor(1, "F", end), 0, null, null, null);
    }

    private List<LogEvent> drain() throws InterruptedException {
        List<LogEvent> out = new ArrayList<>();
        queue.drain(out, 1000, Long.MAX_VALUE, 0);
        return out;
    }

    @Test
    void heldEventsEnterTheTrackerBeforeACursorSkippedAfterThem() throws Exception {
        publisher.message(message(0, 100));
        publisher.message(message(100, 200));
        publisher.skipped(new Cursor(1, "F", 300));   // e.g. a line that exclude_lines dropped
        publisher.message(message(300, 400));
        assertThat(queue.size()).as("held until the flush").isZero();
        assertThat(tracker.outstanding()).isEqualTo(2);
        publisher.flush();
        assertThat(tracker.outstanding()).isEqualTo(3);
        List<LogEvent> events = drain();
        assertThat(events).hasSize(3);

        // the skipped cursor cannot commit while the events read before it are not acknowledged
        events.get(2).ack();
        assertThat(tracker.committed()).isNull();
        events.get(0).ack();
        assertThat(tracker.committed().offset()).isEqualTo(100);
        events.get(1).ack();
        assertThat(tracker.committed().offset()).isEqualTo(400);
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void truncatedMessagesAreCounted() throws Exception {
        publisher.message(message(0, 100));
        publisher.message(new Message("stdout", "2024-05-01T10:00:00Z", "cut", new Cursor(1, "F", 100), new Cursor(1, "F", 200),
                Message.TRUNCATED, null, null, null));
        publisher.flush();
        assertThat(metrics.counter("logferry_events_truncated_total", "").sum()).isEqualTo(1);
        assertThat(metrics.counter("logferry_events_read_total", "").sum()).isEqualTo(2);
    }

    @Test
    void aFlushPublishesAndQueuesInReadOrder() throws Exception {
        for (int i = 0; i < 5; i++) {
            publisher.message(message(i * 10L, i * 10L + 10));
        }
        publisher.flush();
        publisher.flush();                               // nothing held: nothing happens
        List<LogEvent> events = drain();
        assertThat(events).extracting(e -> e.commit().offset()).containsExactly(10L, 20L, 30L, 40L, 50L);
        assertThat(events).allSatisfy(e -> assertThat(e.tail()).isSameAs(events.get(0).tail()));
        LogEvent.ackAll(events);
        assertThat(tracker.committed().offset()).isEqualTo(50);
    }

    @Test
    void aFlushStampsItsEventsWithTheHandOffTimeAndWhetherTheReadFoundTheTailerBehind() throws Exception {
        publisher.behind(true);
        publisher.message(message(0, 10));
        publisher.message(message(10, 20));
        long before = System.nanoTime();
        publisher.flush();
        publisher.behind(false);
        publisher.message(message(20, 30));
        publisher.flush();
        long after = System.nanoTime();

        List<LogEvent> events = drain();
        assertThat(events).allSatisfy(e -> {
            assertThat(e.stamped()).isTrue();
            assertThat(e.queuedNanos()).isBetween(before, after);
        });
        assertThat(events).extracting(LogEvent::behind).containsExactly(true, true, false);
    }
}
