package io.logferry.tail;

import io.logferry.metrics.Metrics;
import io.logferry.model.Cursor;
import io.logferry.spool.Spool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

import static io.logferry.tail.ChainFixture.C;
import static io.logferry.tail.ChainFixture.ID;
import static io.logferry.tail.ChainFixture.line;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chain's spooler with a real spool on a temporary directory, a clock and a spool thread
 * turned by hand: what it copies and when, what it does with each outcome, and that no file is
 * ever closed under a copy.
 */
class ChainSpoolerTest {
    @TempDir
    Path dir;
    private final ChainHandOff handOff = new ChainHandOff();
    private final ChainFixture.Jobs jobs = new ChainFixture.Jobs();
    private final ChainFixture.Clock clock = new ChainFixture.Clock();
    private final LongAdder lost = new LongAdder();
    private final LongAdder lostBytes = new LongAdder();
    private final HeldFiles held = HeldFiles.unbounded();
    private final List<FileChannel> opened = new ArrayList<>();
    private Spool spool;
    private ChainSpooler spooler;
    /** The source the tailer reads now (already safe: nothing of it is to copy). */
    private RotationChain.Source readNow;

    @BeforeEach
    void setUp() throws IOException {
        spool = new Spool(dir.resolve("spool"), 1 << 20, new Metrics());
        spooler = new ChainSpooler(ID, () -> C, spool, jobs, handOff, clock, lost, lostBytes);
        readNow = new RotationChain.Source(9, file("now", line("now", 9)), "now-key", "fp-now", null, 0);
        readNow.spooled = true;
    }

    @AfterEach
    void close() throws IOException {
        for (FileChannel ch : opened) {
            ch.close();
        }
    }

    private FileChannel file(String name, String content) throws IOException {
        Path p = Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
        FileChannel ch = ChainFixture.open(p);
        opened.add(ch);
        return ch;
    }

    /** A read file: three lines, read under sequence {@code seq}. */
    private RotationChain.Source read(long seq, String name) throws IOException {
        String text = line(name + "0", 1) + line(name + "1", 2) + line(name + "2", 3);
        return new RotationChain.Source(seq, file(name, text), name + "-key", "fp-" + name, null, 0);
    }

    private RotationChain.Upcoming waiting(String name) throws IOException {
        return new RotationChain.Upcoming(file(name, line(name, 4)), name + "-key", "fp-" + name, dir.resolve(name), null);
    }

    /** The watch thread's next round: applies the outcomes the spool thread posted. */
    private void applyPosts() {
        for (ChainHandOff.Post p : handOff.drain()) {
            if (p instanceof ChainHandOff.Post.CopyDone d) {
                spooler.done(d, readNow, held);
            }
        }
    }

    @Test
    void anAcknowledgementWhileACopyIsInFlightKeepsTheFileOpenUntilTheCopyIsOverThenDropsTheCopy() throws IOException {
        RotationChain.Source s = read(1, "old");
        spooler.spoolAll();
        spooler.protect(List.of(s, readNow), null, null, null);
        assertThat(jobs.size()).as("the copy is decided on the watch thread, run on the spool thread").isEqualTo(1);

        s.acknowledged = true;               // what the holder does when the cursor passes it
        spooler.acknowledged(s);
        assertThat(s.channel.isOpen()).as("a copy reads it: not closed under it").isTrue();

        jobs.runAll();
        assertThat(spool.problem()).as("the copy read an open file").isNull();
        assertThat(spool.segments(ID)).hasSize(1);
        assertThat(s.channel.isOpen()).as("the outcome is not applied yet").isTrue();

        applyPosts();
        assertThat(s.channel.isOpen()).isFalse();
        assertThat(spool.segments(ID)).as("acknowledged meanwhile: the copy is not needed").isEmpty();
        assertThat(spooler.inFlight()).isFalse();
        assertThat(lost.sum()).isZero();
    }

    @Test
    void aFailedCopyIsTriedAgainAfterTenSecondsAndTheSpoolIsDegradedUntilItIsIn() throws IOException {
        RotationChain.Source s = read(1, "old");
        Path blocker = dir.resolve("spool").resolve(ID);
        Files.createDirectories(blocker.getParent());
        Files.writeString(blocker, "not a directory");   // the volume refuses the copy (the tests run as root)
        spooler.spoolAll();
        spooler.protect(List.of(s, readNow), null, null, null);
        jobs.runAll();
        applyPosts();
        assertThat(spool.problem()).as("/health degraded").isNotNull();
        assertThat(s.spooled).isFalse();
        assertThat(s.channel.isOpen()).as("the file stays open and is read as before").isTrue();

        clock.advanceMillis(9_999);
        spooler.protect(List.of(s, readNow), null, null, null);
        assertThat(jobs.size()).as("not before 10 s").isZero();
        clock.advanceMillis(1);
        Files.delete(blocker);
        spooler.protect(List.of(s, readNow), null, null, null);
        assertThat(jobs.runAll()).isEqualTo(1);
        applyPosts();
        assertThat(s.spooled).isTrue();
        assertThat(spool.problem()).as("the copy that failed is in").isNull();
        assertThat(spool.segments(ID)).hasSize(1);
        assertThat(s.channel.isOpen()).as("read to its end and in the spool: closed").isFalse();
    }

    @Test
    void aRotatedFileWithUnacknowledgedBytesIsCopiedOnlyAfterTheGraceWhileAcknowledgementsMove() throws IOException {
        RotationChain.Source s = read(1, "old");
        for (int i = 0; i < 19; i++) {
            spooler.protect(List.of(s, readNow), new Cursor(1, "fp-old", i), null, "now-key");
            clock.advanceMillis(100);
        }
        spooler.protect(List.of(s, readNow), new Cursor(1, "fp-old", 19), null, "now-key");
        assertThat(jobs.size()).as("1.9 s rotated, acknowledgements moving: Elasticsearch keeps up").isZero();
        clock.advanceMillis(100);
        spooler.protect(List.of(s, readNow), new Cursor(1, "fp-old", 20), null, "now-key");
        assertThat(jobs.runAll()).as("2 s rotated and unacknowledged: copied").isEqualTo(1);
        applyPosts();
        Spool.Segment seg = spool.segments(ID).get(0);
        assertThat(seg.base()).as("from the acknowledged offset").isEqualTo(20);
    }

    @Test
    void whileAcknowledgementsStandStillARotatedFileIsCopiedAtOnce() throws IOException {
        RotationChain.Source s = read(1, "old");
        Cursor stuck = new Cursor(1, "fp-old", 0);
        spooler.protect(List.of(s), stuck, null, "old-key");   // still the live log
        clock.advanceMillis(2_000);
        spooler.protect(List.of(s, readNow), stuck, null, "now-key");
        assertThat(jobs.size()).isEqualTo(1);
    }

    @Test
    void aWaitingFileDockerDeletedIsReplacedInTheQueueByItsCopyAndClosedOnlyAfterTheCopy() throws IOException {
        RotationChain.Upcoming u = waiting("next");
        handOff.offer(List.of(u));
        Set<Object> listed = new HashSet<>(Set.of("now-key"));
        spooler.spoolWaiting(handOff.snapshot(), listed);
        clock.advanceMillis(49);
        spooler.spoolWaiting(handOff.snapshot(), listed);
        assertThat(jobs.size()).as("missing from one listing may be a rename in progress").isZero();
        clock.advanceMillis(1);
        spooler.spoolWaiting(handOff.snapshot(), listed);
        assertThat(jobs.size()).as("missing from two listings 50 ms apart: deleted").isEqualTo(1);
        spooler.spoolWaiting(handOff.snapshot(), listed);
        assertThat(jobs.size()).as("not offered twice while in flight").isEqualTo(1);

        jobs.runAll();
        assertThat(u.channel().isOpen()).isTrue();
        applyPosts();
        assertThat(u.channel().isOpen()).isFalse();
        List<RotationChain.Upcoming> queue = handOff.snapshot();
        assertThat(queue).hasSize(1);
        assertThat(queue.get(0).live()).isFalse();
        assertThat(ChainFixture.firstLine(queue.get(0).channel()).length()).isPositive();
        queue.get(0).channel().close();
    }

    @Test
    void aWaitingFileTheTailerTookDuringItsCopyIsLeftToTheTailerAndTheCopyDeleted() throws IOException {
        RotationChain.Upcoming a = waiting("a");
        RotationChain.Upcoming b = waiting("b");
        handOff.offer(List.of(a, b));
        spooler.moveBeyondLimit(new ChainHolder.Over(a, 2, 100), held);
        assertThat(spooler.moving(a)).isTrue();
        assertThat(handOff.take()).as("the tailer takes a meanwhile").isSameAs(a);
        jobs.runAll();
        applyPosts();
        assertThat(a.channel().isOpen()).as("the tailer reads it").isTrue();
        assertThat(spool.segments(ID)).isEmpty();
        assertThat(lost.sum()).isZero();
    }

    @Test
    void beyondTheHeldLimitWithoutASpoolTheOldestWaitingFileIsReportedLostAndClosed() throws IOException {
        ChainSpooler none = new ChainSpooler(ID, () -> C, null, jobs, handOff, clock, lost, lostBytes);
        RotationChain.Upcoming a = waiting("a");
        RotationChain.Upcoming b = waiting("b");
        handOff.offer(List.of(a, b));
        none.moveBeyondLimit(new ChainHolder.Over(a, 2, 100), held);
        assertThat(jobs.size()).isZero();
        assertThat(handOff.snapshot()).containsExactly(b);
        assertThat(a.channel().isOpen()).isFalse();
        assertThat(lost.sum()).isEqualTo(1);
        assertThat(lostBytes.sum()).isEqualTo(a.seenAs().toFile().length());
    }

    @Test
    void theTailerClosingDuringACopyClosesItsFilesOnceTheCopyIsOverAndKeepsTheCopyForTheNextStart() throws IOException {
        RotationChain.Source plain = read(1, "old");
        RotationChain.Source t = read(2, "older");
        RotationChain.Source[] s = new RotationChain.Source[1];
        HookedChannel during = new HookedChannel(plain.channel, () -> {
            // the copy is reading the file: the tailer ends, and the watch applies its close
            handOff.post(new ChainHandOff.Post.Closed());
            handOff.drain();
            spooler.closed(List.of(), List.of(s[0], t, readNow));
            assertThat(s[0].channel.isOpen()).as("under a copy: not closed").isTrue();
            assertThat(t.channel.isOpen()).isFalse();
        });
        opened.add(during);
        s[0] = new RotationChain.Source(1, during, plain.key, plain.fileId, null, 0);
        spooler.spoolAll();
        spooler.protect(List.of(s[0], readNow), null, null, null);
        jobs.runAll();
        assertThat(spool.problem()).isNull();
        assertThat(spooler.inFlight()).isTrue();
        applyPosts();
        assertThat(s[0].channel.isOpen()).isFalse();
        assertThat(spool.segments(ID)).as("unacknowledged bytes: resumed from at the next start").hasSize(1);
        assertThat(spooler.inFlight()).isFalse();
    }

    @Test
    void aCopyNotStartedWhenTheTailerClosedIsNotTriedAndItsFileClosedAfter() throws IOException {
        RotationChain.Source s = read(1, "old");
        spooler.spoolAll();
        spooler.protect(List.of(s, readNow), null, null, null);
        handOff.post(new ChainHandOff.Post.Closed());
        handOff.drain();
        spooler.closed(List.of(), List.of(s, readNow));
        assertThat(s.channel.isOpen()).isTrue();
        jobs.runAll();
        applyPosts();
        assertThat(s.channel.isOpen()).isFalse();
        assertThat(spool.segments(ID)).isEmpty();
        assertThat(spool.problem()).isNull();
    }
}
