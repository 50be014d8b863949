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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static io.logferry.tail.ChainFixture.C;
import static io.logferry.tail.ChainFixture.ID;
import static io.logferry.tail.ChainFixture.current;
import static io.logferry.tail.ChainFixture.line;
import static io.logferry.tail.ChainFixture.rotate;
import static io.logferry.tail.ChainFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chain as its three threads see it, each turned by hand: the test is the tailer (start,
 * take, post), the watch ({@link RotationChain#check}) and the spool thread ({@link ChainFixture.Jobs}),
 * on a log directory it rotates itself, with a clock it turns.
 */
class RotationChainTest {
    @TempDir
    Path root;
    private Path dir;
    private final ChainFixture.Jobs jobs = new ChainFixture.Jobs();
    private final ChainFixture.Clock clock = new ChainFixture.Clock();
    private final AtomicReference<Cursor> acked = new AtomicReference<>();
    private final LongAdder lost = new LongAdder();
    private final LongAdder lostBytes = new LongAdder();
    private final List<FileChannel> opened = new ArrayList<>();
    private Spool spool;
    private RotationChain chain;
    /** The file the tailer read first (sequence 1). */
    private FileChannel first;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createDirectories(root.resolve(ID));
        spool = new Spool(root.resolve("spool"), 1 << 20, new Metrics());
        chain = new RotationChain(dir, ID, () -> C, acked::get, HeldFiles.unbounded(), spool, jobs, lost, lostBytes, clock);
        write(dir, line("a0", 1) + line("a1", 2));
        // the tailer: opens the live log, starts the chain, hands it to the watch
        FileIdentity.Opened o = FileIdentity.openStable(current(dir));
        first = o.channel();
        opened.add(first);
        String fp = FileIdentity.fingerprint(current(dir));
        chain.start(List.of(), o.key(), fp);
        chain.opened(new RotationChain.Source(1, first, o.key(), fp, null, 0));
        chain.handedOver(() -> { });
    }

    @AfterEach
    void tearDown() throws IOException {
        for (FileChannel ch : opened) {
            ch.close();
        }
    }

    /** Docker rotates; the watch hands the new file over; the tailer moves to it (sequence 2). */
    private RotationChain.Upcoming rotateAndMove() throws IOException {
        rotate(dir, 5, line("b0", 3));
        assertThat(chain.check()).isTrue();
        RotationChain.Upcoming next = chain.next();
        assertThat(next).as("the new file was handed over").isNotNull();
        opened.add(next.channel());
        chain.opened(new RotationChain.Source(2, next.channel(), next.key(), next.fileId(), null, 0));
        return next;
    }

    @Test
    void anAcknowledgementArrivingWhileACopyIsInFlightNeitherClosesTheFileUnderItNorKeepsTheCopy() throws IOException {
        RotationChain.Upcoming next = rotateAndMove();
        chain.check();
        assertThat(jobs.size()).as("rotated, unacknowledged for less than 2 s: no copy").isZero();
        clock.advanceMillis(2_000);
        chain.check();
        assertThat(jobs.size()).as("Elasticsearch away 2 s: the rotated file is copied").isEqualTo(1);

        acked.set(new Cursor(2, next.fileId(), 0));   // every byte of the first file is acknowledged meanwhile
        chain.check();
        assertThat(first.isOpen()).as("a copy reads it").isTrue();

        jobs.runAll();
        assertThat(spool.problem()).as("no closed channel under the copy, no broken spool").isNull();
        chain.check();
        assertThat(first.isOpen()).isFalse();
        assertThat(spool.segments(ID)).as("acknowledged: the copy is not needed").isEmpty();
        assertThat(lost.sum()).isZero();
    }

    @Test
    void theTailerClosingWhileACopyIsInFlightKeepsTheChainUntilTheOutcomeAndTheCopyForTheNextStart() throws IOException {
        rotateAndMove();
        clock.advanceMillis(2_000);
        chain.check();
        assertThat(jobs.size()).isEqualTo(1);
        // the copy is over, the tailer ends (the agent stops), and the watch applies both in the order posted
        jobs.runAll();
        chain.close();
        assertThat(chain.check()).as("dropped only once no copy is in flight").isFalse();
        assertThat(first.isOpen()).isFalse();
        assertThat(spool.segments(ID)).as("unacknowledged: resumed from at the next start").hasSize(1);
    }

    @Test
    void aCloseAppliedBeforeTheCopyRanLeavesTheFileOpenUntilTheOutcome() throws IOException {
        rotateAndMove();
        clock.advanceMillis(2_000);
        chain.check();
        chain.close();
        assertThat(chain.check()).as("a copy is in flight: kept").isTrue();
        assertThat(first.isOpen()).as("not closed under the copy").isTrue();
        jobs.runAll();
        assertThat(chain.check()).isFalse();
        assertThat(first.isOpen()).isFalse();
        assertThat(spool.problem()).isNull();
    }

    @Test
    void aRemovedContainersFilesAreUnspooledUntilTheirCopiesAreIn() throws IOException {
        rotateAndMove();
        chain.spoolAll();
        assertThat(chain.unspooled()).isTrue();
        chain.check();
        assertThat(jobs.size()).as("the read file and the one being read").isEqualTo(2);
        assertThat(chain.unspooled()).as("copies in flight").isTrue();
        jobs.runAll();
        assertThat(chain.unspooled()).as("their outcome is not applied yet").isTrue();
        chain.check();
        assertThat(chain.unspooled()).isFalse();
        assertThat(spool.segments(ID)).hasSize(2);
        assertThat(first.isOpen()).as("read to its end and in the spool").isFalse();
    }

    @Test
    void aChainTheWatchNeverTookIsClosedOnTheTailersThread() throws IOException {
        RotationChain own = new RotationChain(dir, ID, () -> C, acked::get, HeldFiles.unbounded(), spool, jobs, lost, lostBytes, clock);
        FileChannel ch = ChainFixture.open(current(dir));
        opened.add(ch);
        own.start(List.of(), FileIdentity.key(current(dir)), FileIdentity.fingerprint(current(dir)));
        own.opened(new RotationChain.Source(1, ch, FileIdentity.key(current(dir)), "fp", null, 0));
        own.close();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void filesDockerCreatesAreHandedToTheTailerInOrderAndCountedAsHeld() throws IOException {
        rotate(dir, 5, line("b0", 3));
        rotate(dir, 5, line("c0", 4));
        chain.check();
        assertThat(chain.heldCount()).isEqualTo(2);
        RotationChain.Upcoming b = chain.next();
        RotationChain.Upcoming c = chain.next();
        opened.add(b.channel());
        opened.add(c.channel());
        assertThat(ChainFixture.firstLine(b.channel())).isEqualTo(line("b0", 3));
        assertThat(ChainFixture.firstLine(c.channel())).isEqualTo(line("c0", 4));
        assertThat(chain.hasNext()).isFalse();
        assertThat(lost.sum()).isZero();
    }
}
