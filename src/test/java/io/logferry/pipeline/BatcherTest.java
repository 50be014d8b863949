package io.logferry.pipeline;

import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The batcher with a test output whose deliveries wait on a latch the test opens. */
class BatcherTest {
    private final AckTracker tracker = new AckTracker("c1", null);
    private final EventQueue queue = new EventQueue(1000, 1 << 20);
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicInteger enteredBatches = new java.util.concurrent.atomic.AtomicInteger();
    private final List<List<LogEvent>> delivered = new CopyOnWriteArrayList<>();
    private Batcher batcher;

    /** Holds every batch until the test opens {@link #release}, then acknowledges it. */
    private final Output held = new Output() {
        @Override
        public void deliver(List<LogEvent> batch) throws InterruptedException {
            enteredBatches.incrementAndGet();
            entered.countDown();
            release.await();
            LogEvent.ackAll(batch);
            delivered.add(batch);
        }

        @Override
        public String problem() {
            return null;
        }

        @Override
        public void close() {
        }
    };

    private List<LogEvent> events(int n) {
        List<LogEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            LogEvent e = new LogEvent(tracker, new byte[10], 0, new Cursor(1, "A", i + 1));
            tracker.published(e);
            out.add(e);
        }
        return out;
    }

    @AfterEach
    void stop() {
        release.countDown();
        if (batcher != null) {
            batcher.close();
        }
    }

    @Test
    void notIdleWhileTheOutputHoldsABatchThenIdleWhenItIsDelivered() throws Exception {
        batcher = new Batcher(queue, held, 100, 1 << 20, Duration.ZERO, 1, new Metrics());
        batcher.start();
        queue.putAll(events(5));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        // the queue is empty: every event is in the output's hands
        assertThat(queue.size()).isZero();
        assertThat(batcher.awaitIdle(0, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(batcher.awaitIdle(50, TimeUnit.MILLISECONDS)).isFalse();
        release.countDown();
        assertThat(batcher.awaitIdle(10, TimeUnit.SECONDS)).isTrue();
        assertThat(delivered).hasSize(1);
        assertThat(delivered.get(0)).hasSize(5);
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void notIdleWhileTheBatcherFillsABatchItHasNotHandedOnYet() throws Exception {
        // a batch of up to 100 events and a flush interval far away: the first batch (nothing sent yet) leaves at once;
        // the next 5 events wait in the batcher's hands, the interval not over since that one
        batcher = new Batcher(queue, held, 100, 1 << 20, Duration.ofHours(1), 2, new Metrics());
        batcher.start();
        queue.putAll(events(1));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        queue.putAll(events(5));
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.size() == 0);
        assertThat(enteredBatches.get()).as("the 5 not handed to the output yet").isEqualTo(1);
        assertThat(batcher.awaitIdle(0, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(batcher.awaitIdle(50, TimeUnit.MILLISECONDS)).isFalse();
        // 95 more fill the batch: it goes to the output, which delivers both once released
        queue.putAll(events(95));
        release.countDown();
        assertThat(batcher.awaitIdle(10, TimeUnit.SECONDS)).isTrue();
        assertThat(delivered).extracting(List::size).containsExactlyInAnyOrder(1, 100);
    }

    @Test
    void aBatchAfterAQuietSpellLeavesAtOnceAndTheNextWaitsForTheInterval() throws Exception {
        batcher = new Batcher(queue, held, 100, 1 << 20, Duration.ofHours(1), 2, new Metrics());
        release.countDown();
        batcher.start();
        queue.putAll(events(3));
        await("hang guard").atMost(Duration.ofSeconds(10)).until(() -> delivered.size() == 1);
        assertThat(delivered.get(0)).hasSize(3);
        queue.putAll(events(2));
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.size() == 0);
        assertThat(batcher.awaitIdle(100, TimeUnit.MILLISECONDS)).as("held for the interval: a batch was sent just now").isFalse();
        assertThat(delivered).hasSize(1);
    }

    @Test
    void aBatchTheOutputFailsOnIsSettledUnacknowledged() throws Exception {
        Output failing = new Output() {
            @Override
            public void deliver(List<LogEvent> batch) {
                throw new IllegalStateException("output broken");
            }

            @Override
            public String problem() {
                return "broken";
            }

            @Override
            public void close() {
            }
        };
        batcher = new Batcher(queue, failing, 100, 1 << 20, Duration.ZERO, 1, new Metrics());
        batcher.start();
        queue.putAll(events(3));
        assertThat(batcher.awaitIdle(10, TimeUnit.SECONDS)).isTrue();
        assertThat(tracker.outstanding()).as("read again after a restart").isEqualTo(3);
    }

    @Test
    void eachEventsQueueWaitIsRecordedAsItsBatchLeavesByItsTailersState() throws Exception {
        Metrics metrics = new Metrics();
        long now = TimeUnit.SECONDS.toNanos(1000);
        batcher = new Batcher(queue, held, 100, 1 << 20, Duration.ZERO, 1, metrics, () -> now);
        List<LogEvent> events = events(4);
        events.get(0).queued(now - TimeUnit.MILLISECONDS.toNanos(3), false);
        events.get(1).queued(now - TimeUnit.MILLISECONDS.toNanos(800), false);
        events.get(2).queued(now - TimeUnit.SECONDS.toNanos(20), true);
        // events.get(3): never stamped by a publisher, not counted
        queue.putAll(events);
        batcher.start();
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

        String text = metrics.prometheus();
        assertThat(text).contains("logferry_event_queue_wait_seconds_bucket{tailer=\"caught_up\",le=\"0.005\"} 1\n",
                "logferry_event_queue_wait_seconds_bucket{tailer=\"caught_up\",le=\"0.5\"} 1\n",
                "logferry_event_queue_wait_seconds_bucket{tailer=\"caught_up\",le=\"1.0\"} 2\n",
                "logferry_event_queue_wait_seconds_count{tailer=\"caught_up\"} 2\n",
                "logferry_event_queue_wait_seconds_bucket{tailer=\"behind\",le=\"10.0\"} 0\n",
                "logferry_event_queue_wait_seconds_bucket{tailer=\"behind\",le=\"30.0\"} 1\n",
                "logferry_event_queue_wait_seconds_count{tailer=\"behind\"} 1\n");
    }
}
