package io.logferry.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class AckTrackerTest {
    private final AckTracker tracker = new AckTracker("c1", null);

    private LogEvent publish(long seq, String file, long commitOffset) {
        LogEvent e = new LogEvent(tracker, new byte[] {'x', '\n'}, 0, new Cursor(seq, file, commitOffset));
        tracker.published(e);
        return e;
    }

    private LogEvent publish(long commitOffset) {
        return publish(1, "A", commitOffset);
    }

    @Test
    void nothingPublishedNothingCommitted() {
        assertThat(tracker.committed()).isNull();
        assertThat(tracker.outstanding()).isZero();
        assertThat(tracker.containerId()).isEqualTo("c1");
    }

    @Test
    void outOfOrderAcksCommitOnlyTheContiguousPrefix() {
        LogEvent a = publish(10);
        LogEvent b = publish(20);
        LogEvent c = publish(30);
        LogEvent d = publish(40);
        assertThat(tracker.outstanding()).isEqualTo(4);

        c.ack();
        assertThat(tracker.committed()).isNull();
        b.ack();
        assertThat(tracker.committed()).isNull();
        a.ack();
        assertThat(tracker.committed()).isEqualTo(new Cursor(1, "A", 30));
        assertThat(tracker.outstanding()).isEqualTo(1);
        d.ack();
        assertThat(tracker.committed()).isEqualTo(new Cursor(1, "A", 40));
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void ackAllAcknowledgesRunsOfEachContainer() {
        AckTracker other = new AckTracker("c2", null);
        LogEvent a = publish(10);
        LogEvent b = publish(20);
        LogEvent x = new LogEvent(other, new byte[] {'x', '\n'}, 0, new Cursor(1, "B", 5));
        other.published(x);
        LogEvent c = publish(30);
        LogEvent d = publish(40);
        b.ack();
        LogEvent.ackAll(List.of(c, x, a));
        assertThat(tracker.committed()).isEqualTo(new Cursor(1, "A", 30));
        assertThat(tracker.outstanding()).isEqualTo(1);
        assertThat(other.committed()).isEqualTo(new Cursor(1, "B", 5));
        assertThat(other.outstanding()).isZero();
        LogEvent.ackAll(List.of(d, d));
        assertThat(tracker.committed()).isEqualTo(new Cursor(1, "A", 40));
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void aSecondAckChangesNothing() {
        LogEvent a = publish(10);
        LogEvent b = publish(20);
        a.ack();
        a.ack();
        assertThat(tracker.outstanding()).isEqualTo(1);
        assertThat(tracker.committed().offset()).isEqualTo(10);
        b.ack();
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void skippedWithNothingPendingCommitsAtOnce() {
        tracker.skipped(new Cursor(1, "A", 50));
        assertThat(tracker.committed()).isEqualTo(new Cursor(1, "A", 50));
        tracker.skipped(new Cursor(1, "A", 70));
        assertThat(tracker.committed().offset()).isEqualTo(70);
        assertThat(tracker.outstanding()).isZero();
    }

    @Test
    void skippedAfterPendingEventsWaitsForThem() {
        LogEvent a = publish(10);
        tracker.skipped(new Cursor(1, "A", 15));
        tracker.skipped(new Cursor(1, "A", 18));
        LogEvent b = publish(25);
        tracker.skipped(new Cursor(1, "A", 30));
        assertThat(tracker.committed()).isNull();
        b.ack();
        assertThat(tracker.committed()).isNull();
        a.ack();
        assertThat(tracker.committed()).isEqualTo(new Cursor(1, "A", 30));
    }

    @Test
    void skippedBetweenEventsStopsAtTheNextUnackedEvent() {
        LogEvent a = publish(10);
        tracker.skipped(new Cursor(1, "A", 15));
        LogEvent b = publish(25);
        a.ack();
        assertThat(tracker.committed().offset()).isEqualTo(15);
        b.ack();
        assertThat(tracker.committed().offset()).isEqualTo(25);
    }

    @Test
    void cursorsAcrossFiles() {
        LogEvent a = publish(1, "A", 900);
        LogEvent b = publish(2, "B", 40);
        tracker.skipped(new Cursor(2, "B", 60));
        LogEvent c = publish(3, "C", 5);
        b.ack();
        assertThat(tracker.committed()).isNull();
        a.ack();
        assertThat(tracker.committed()).isEqualTo(new Cursor(2, "B", 60));
        c.ack();
        assertThat(tracker.committed()).isEqualTo(new Cursor(3, "C", 5));
    }

    @Test
    void aResumedTrackerMovesOnInTheSameFile() {
        // from the registry: file A acknowledged to 500; the tailer's file sequence starts again
        AckTracker resumed = new AckTracker("c1", new Cursor(0, "A", 500));
        LogEvent e = new LogEvent(resumed, new byte[0], 0, new Cursor(1, "A", 600));
        resumed.published(e);
        e.ack();
        assertThat(resumed.committed()).isEqualTo(new Cursor(1, "A", 600));
    }

    @Test
    void aTrackerReusedByANewTailerMovesOn() {
        // the first tailer went through rotations (file sequence 3); the container restarts and a
        // new tailer reads the same file from where it was, its file sequence counting from 1 again
        AckTracker t = new AckTracker("c1", null);
        t.skipped(new Cursor(3, "A", 500));
        LogEvent e = new LogEvent(t, new byte[0], 0, new Cursor(1, "A", 600));
        t.published(e);
        e.ack();
        assertThat(t.committed().offset()).isEqualTo(600);
        t.skipped(new Cursor(1, "A", 550));
        assertThat(t.committed().offset()).as("never backwards in the same file").isEqualTo(600);
    }

    @Test
    void randomAckOrderAlwaysCommitsTheContiguousPrefix() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            AckTracker t = new AckTracker("c", null);
            // the read order: events and skipped byte runs; a skip is acknowledged from the start
            List<Pending> order = new ArrayList<>();
            List<LogEvent> events = new ArrayList<>();
            for (int i = 1; i <= 30; i++) {
                if (random.nextInt(4) == 0) {
                    Cursor skip = new Cursor(1, "A", i * 10L - 5);
                    t.skipped(skip);
                    order.add(new Pending(skip, true));
                }
                LogEvent e = new LogEvent(t, new byte[0], 0, new Cursor(1, "A", i * 10L));
                t.published(e);
                events.add(e);
                order.add(e);
            }
            List<LogEvent> acks = new ArrayList<>(events);
            java.util.Collections.shuffle(acks, random);
            for (LogEvent e : acks) {
                e.ack();
                Cursor expected = null;
                for (Pending p : order) {
                    if (!p.acked) {
                        break;
                    }
                    expected = p.commit();
                }
                assertThat(t.committed()).isEqualTo(expected);
            }
            assertThat(t.outstanding()).isZero();
        }
    }

    @Test
    void cursorOrder() {
        Cursor a = new Cursor(1, "A", 100);
        Cursor b = new Cursor(2, "B", 5);
        Cursor c = new Cursor(2, "B", 6);
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(c);
        assertThat(Cursor.min(a, b)).isSameAs(a);
        assertThat(Cursor.min(c, b)).isSameAs(b);
        assertThat(Cursor.min(null, b)).isSameAs(b);
        assertThat(Cursor.min(a, null)).isSameAs(a);
        assertThat(Cursor.min(null, null)).isNull();
    }

    @Test
    void theFilesReadAndNotAllAcknowledgedAreKnownInReadOrderFromTheFirstRead() {
        assertThat(tracker.unacknowledgedFiles()).isEmpty();
        LogEvent a1 = publish(1, "A", 100);
        publish(1, "A", 200);
        publish(2, "B", 50);
        publish(3, "C", 70);
        assertThat(tracker.unacknowledgedFiles()).containsExactly(new AckTracker.Unacknowledged("A", 0, 200),
                new AckTracker.Unacknowledged("B", 0, 50), new AckTracker.Unacknowledged("C", 0, 70));
        a1.ack();
        assertThat(tracker.unacknowledgedFiles()).as("A from its committed offset")
                .startsWith(new AckTracker.Unacknowledged("A", 100, 200));
    }

    @Test
    void everyChangeOfWhatTheRegistryReadsRaisesTheFlagAndNothingElseDoes() {
        ChangeFlag changed = new ChangeFlag();
        AckTracker t = new AckTracker("c1", null, changed);
        assertThat(changed.take()).as("starts raised: the first flush writes").isTrue();
        assertThat(changed.take()).isFalse();

        LogEvent a = new LogEvent(t, new byte[] {'x', '\n'}, 0, new Cursor(1, "A", 10));
        LogEvent b = new LogEvent(t, new byte[] {'x', '\n'}, 0, new Cursor(1, "A", 20));
        t.published(a);
        assertThat(changed.take()).isTrue();
        t.published(List.of(b), 0, 1);
        assertThat(changed.take()).isTrue();
        t.committed();
        t.unacknowledgedFiles();
        t.outstanding();
        assertThat(changed.take()).as("reading changes nothing").isFalse();
        a.ack();
        assertThat(changed.take()).isTrue();
        a.ack();
        assertThat(changed.take()).as("an event acknowledged twice: the second changes nothing").isFalse();
        LogEvent.ackAll(List.of(b));
        assertThat(changed.take()).isTrue();
        t.skipped(new Cursor(1, "A", 30));
        changed.raise();
        changed.raise();
        assertThat(changed.take()).isTrue();
        assertThat(changed.take()).isFalse();
        assertThat(t.committed().offset()).isEqualTo(30);
    }
}
