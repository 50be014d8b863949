package io.logferry.pipeline;

import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class EventQueueTest {
    private final AckTracker tracker = new AckTracker("c1", null);

    private List<LogEvent> events(int n, int size) {
        List<LogEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new LogEvent(tracker, new byte[size], 0, new Cursor(1, "A", i + 1)));
        }
        return out;
    }

    @Test
    void putAllKeepsOrderAndBlocksWhileFullWithoutDroppingAnything() throws Exception {
        EventQueue q = new EventQueue(10, 1 << 20);
        List<LogEvent> in = events(35, 8);
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            try {
                q.putAll(in);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // one container fills the queue but for the eighth kept for containers with nothing queued
        await().atMost(Duration.ofSeconds(10)).until(() -> q.size() == 10 - 10 / EventQueue.RESERVE);
        assertThat(producer).isNotDone();
        List<LogEvent> out = new ArrayList<>();
        while (out.size() < in.size()) {
            q.drain(out, 4, 1 << 20, TimeUnit.SECONDS.toNanos(10));
        }
        producer.get(10, TimeUnit.SECONDS);
        assertThat(out).containsExactlyElementsOf(in);
        assertThat(q.size()).isZero();
        assertThat(q.bytes()).isZero();
    }

    @Test
    void putAllRespectsTheByteLimitButAdmitsAnOversizedEventIntoAnEmptyQueue() throws Exception {
        EventQueue q = new EventQueue(1000, 100);
        List<LogEvent> in = new ArrayList<>(events(2, 40));
        in.addAll(events(1, 500));
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            try {
                q.putAll(in);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> q.bytes() == 80);
        List<LogEvent> out = new ArrayList<>();
        q.drain(out, 1000, 1000, TimeUnit.SECONDS.toNanos(10));
        await().atMost(Duration.ofSeconds(10)).until(producer::isDone);
        assertThat(q.bytes()).isEqualTo(500);
        q.drain(out, 1000, 1000, TimeUnit.SECONDS.toNanos(10));
        assertThat(out).containsExactlyElementsOf(in);
    }

    @Test
    void aWaitingBatcherIsWokenByPutAll() throws Exception {
        EventQueue q = new EventQueue(100, 1 << 20);
        List<LogEvent> out = new ArrayList<>();
        CompletableFuture<Long> consumer = CompletableFuture.supplyAsync(() -> {
            try {
                return q.drain(out, 100, 1 << 20, TimeUnit.SECONDS.toNanos(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        List<LogEvent> in = events(5, 10);
        q.putAll(in);
        assertThat(consumer.get(10, TimeUnit.SECONDS)).isEqualTo(50);
        assertThat(out).containsExactlyElementsOf(in);
    }

    @Test
    void aDrainedEventKeepsTheQueueFromBeingIdleUntilItIsSettled() throws Exception {
        EventQueue q = new EventQueue(100, 1 << 20);
        assertThat(q.awaitIdle(0, TimeUnit.SECONDS)).isTrue();
        q.putAll(events(3, 10));
        List<LogEvent> batch = new ArrayList<>();
        q.drain(batch, 2, 1 << 20, 0);
        q.drain(batch, 2, 1 << 20, 0);
        // the queue is empty the moment drain returns, but the batch is in hand: counted under the same lock
        // (the batcher used to count it itself after drain returned, and shutdown could see nothing in between)
        assertThat(q.size()).isZero();
        assertThat(q.taken()).isEqualTo(3);
        assertThat(q.awaitIdle(0, TimeUnit.SECONDS)).isFalse();
        q.settled(2);
        assertThat(q.awaitIdle(0, TimeUnit.SECONDS)).isFalse();
        q.settled(1);
        assertThat(q.awaitIdle(0, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void awaitIdleWakesWhenTheLastBatchIsSettled() throws Exception {
        EventQueue q = new EventQueue(100, 1 << 20);
        q.putAll(events(2, 10));
        List<LogEvent> batch = new ArrayList<>();
        q.drain(batch, 10, 1 << 20, 0);
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                return q.awaitIdle(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(waiter).isNotDone();
        q.settled(batch.size());
        assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
    }

    private static List<LogEvent> of(AckTracker t, int n, long from) {
        List<LogEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new LogEvent(t, new byte[8], 0, new Cursor(1, "A", from + i)));
        }
        return out;
    }

    @Test
    void aParkedLaneIsNotDrainedUntilItsTimeWhileTheOthersAre() throws Exception {
        long[] now = {0};
        EventQueue q = new EventQueue(100, 1 << 20, () -> now[0]);
        AckTracker x = new AckTracker("x", null);
        AckTracker y = new AckTracker("y", null);
        List<LogEvent> xs = of(x, 4, 0);
        q.putAll(xs);
        q.putAll(of(y, 2, 0));
        List<LogEvent> batch = new ArrayList<>();
        q.drain(batch, 100, 1 << 20, 0);
        assertThat(batch).hasSize(6);

        // the output hands x's events back: their destination keeps failing
        q.park(xs, 1_000);
        assertThat(q.size()).isEqualTo(4);
        assertThat(q.parkedLanes()).isEqualTo(1);
        // x's tailer goes on putting behind them; y's events are drained, x's wait
        List<LogEvent> later = of(x, 2, 4);
        q.putAll(later);
        List<LogEvent> ys = of(y, 3, 2);
        q.putAll(ys);
        List<LogEvent> out = new ArrayList<>();
        assertThat(q.drain(out, 100, 1 << 20, 0)).isPositive();
        assertThat(out).containsExactlyElementsOf(ys);
        out.clear();
        assertThat(q.drain(out, 100, 1 << 20, 0)).as("nothing drainable before the time").isZero();

        // its time has come: x's lane in order, the parked events first
        now[0] = 1_000;
        q.drain(out, 100, 1 << 20, 0);
        List<LogEvent> expected = new ArrayList<>(xs);
        expected.addAll(later);
        assertThat(out).containsExactlyElementsOf(expected);
        assertThat(q.size()).isZero();
        assertThat(q.bytes()).isZero();
        assertThat(q.parkedLanes()).isZero();
        assertThat(q.lanesKnown()).isZero();
    }

    @Test
    void aParkedLanesTailerWaitsBehindItsShareAndNothingIsDropped() throws Exception {
        long[] now = {0};
        EventQueue q = new EventQueue(16, 1 << 20, () -> now[0]);
        AckTracker x = new AckTracker("x", null);
        List<LogEvent> first = of(x, 8, 0);
        q.putAll(first);
        List<LogEvent> batch = new ArrayList<>();
        q.drain(batch, 100, 1 << 20, 0);
        q.park(batch, Long.MAX_VALUE / 4);
        // the lane holds 8 of its share of 14 (16 less the reserve): a put of 10 more blocks after 6
        List<LogEvent> more = of(x, 10, 8);
        CompletableFuture<Void> tailer = CompletableFuture.runAsync(() -> {
            try {
                q.putAll(more);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> q.size() == 14);
        assertThat(tailer).isNotDone();
        // a drain that waits ends when its wait does: the parked lane gives nothing
        List<LogEvent> out = new ArrayList<>();
        assertThat(q.drain(out, 100, 1 << 20, TimeUnit.MILLISECONDS.toNanos(20))).isZero();

        now[0] = Long.MAX_VALUE / 4;
        while (out.size() < 18) {
            q.drain(out, 100, 1 << 20, TimeUnit.SECONDS.toNanos(10));
        }
        tailer.get(10, TimeUnit.SECONDS);
        List<LogEvent> expected = new ArrayList<>(first);
        expected.addAll(more);
        assertThat(out).containsExactlyElementsOf(expected);
    }
}
