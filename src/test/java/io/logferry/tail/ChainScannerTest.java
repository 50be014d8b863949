package io.logferry.tail;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import static io.logferry.tail.ChainFixture.ID;
import static io.logferry.tail.ChainFixture.current;
import static io.logferry.tail.ChainFixture.line;
import static io.logferry.tail.ChainFixture.rotate;
import static io.logferry.tail.ChainFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

/** The chain's scanner on a directory the test rotates by hand: what it opens, hands over, and reports lost. */
class ChainScannerTest {
    @TempDir
    Path dir;
    private final ChainHandOff handOff = new ChainHandOff();
    private final LongAdder lost = new LongAdder();
    private ChainScanner scanner;

    /** The file the tailer reads, held open as the tailer holds it (so that its inode cannot be reused). */
    private FileChannel reading;

    @AfterEach
    void closeFiles() throws IOException {
        if (reading != null) {
            reading.close();
        }
        handOff.clear().forEach(u -> {
            try {
                u.channel().close();
            } catch (IOException ignored) {
                // test cleanup
            }
        });
    }

    /** The tailer reads the live log (its first line {@code first}) from its start. */
    private void startReading() throws IOException {
        scanner = new ChainScanner(dir, ID, handOff, lost, () -> "app");
        reading = ChainFixture.open(current(dir));
        scanner.start(List.of(), FileIdentity.key(current(dir)), FileIdentity.fingerprint(current(dir)));
    }

    private List<String> handedOver() throws IOException {
        List<String> out = new java.util.ArrayList<>();
        for (RotationChain.Upcoming u : handOff.snapshot()) {
            out.add(ChainFixture.firstLine(u.channel()));
        }
        return out;
    }

    @Test
    void filesDockerCreatesAreOpenedAndHandedOverOldestFirstAndOnlyOnce() throws IOException {
        write(dir, line("a", 1));
        startReading();
        assertThat(scanner.discoverIfRotated()).as("the path still names the file being read: one stat").isFalse();
        rotate(dir, 5, line("b", 2));
        rotate(dir, 5, line("c", 3));
        assertThat(scanner.discoverIfRotated()).isTrue();
        assertThat(handedOver()).containsExactly(line("b", 2), line("c", 3));
        assertThat(scanner.discoverIfRotated()).as("the newest handed over is the live log again").isFalse();
        scanner.discover();
        assertThat(handedOver()).as("a file accounted for is not handed over twice").hasSize(2);
        assertThat(lost.sum()).isZero();
    }

    @Test
    void aNewLogWithoutACompleteFirstLineIsLeftToTheNextLook() throws IOException {
        write(dir, line("a", 1));
        startReading();
        Files.move(current(dir), ChainFixture.rotated(dir, 1));
        write(dir, "{\"log\":\"half");
        scanner.discoverIfRotated();
        assertThat(handOff.snapshot()).isEmpty();
        write(dir, "\\n\"}\n");
        scanner.discoverIfRotated();
        assertThat(handOff.snapshot()).hasSize(1);
    }

    @Test
    void everyKnownFileRotatedAwayBetweenTwoLooksWithoutCountedCreationsIsReportedLost() throws IOException {
        write(dir, line("a", 1));
        startReading();
        // max-file=2: a is deleted by the second rotation; b and c are on disk, but a file between may have come and gone
        rotate(dir, 2, line("b", 2));
        rotate(dir, 2, line("c", 3));
        scanner.discoverIfRotated();
        assertThat(handedOver()).containsExactly(line("b", 2), line("c", 3));
        assertThat(lost.sum()).as("a possible loss, reported").isEqualTo(1);
    }

    @Test
    void withInotifyCountingCreationsEveryFileFoundMeansNothingWasLost() throws IOException {
        write(dir, line("a", 1));
        startReading();
        scanner.watching();
        scanner.discover();                  // a look while watched: the creations from now on are counted
        rotate(dir, 2, line("b", 2));
        scanner.createdEvent(current(dir).getFileName());
        rotate(dir, 2, line("c", 3));
        scanner.createdEvent(current(dir).getFileName());
        scanner.discoverIfRotated();
        assertThat(handedOver()).containsExactly(line("b", 2), line("c", 3));
        assertThat(lost.sum()).as("two created, two found").isZero();

        rotate(dir, 2, line("d", 4));
        scanner.createdEvent(current(dir).getFileName());
        rotate(dir, 2, line("e", 5));
        scanner.createdEvent(current(dir).getFileName());
        rotate(dir, 2, line("f", 6));
        scanner.createdEvent(current(dir).getFileName());
        scanner.discoverIfRotated();
        assertThat(lost.sum()).as("three created, two found: d was deleted unread").isEqualTo(1);
    }

    @Test
    void afterAnOverflowTheCreationsAreNotTrusted() throws IOException {
        write(dir, line("a", 1));
        startReading();
        scanner.watching();
        scanner.discover();
        rotate(dir, 2, line("b", 2));
        rotate(dir, 2, line("c", 3));
        scanner.createdEvent(current(dir).getFileName());
        scanner.createdEvent(current(dir).getFileName());
        scanner.overflow();
        scanner.discoverIfRotated();
        assertThat(lost.sum()).isEqualTo(1);
    }

    @Test
    void aClosedHandOffTakesNothingAndTheFilesFoundAreClosed() throws IOException {
        write(dir, line("a", 1));
        startReading();
        handOff.post(new ChainHandOff.Post.Closed());
        rotate(dir, 5, line("b", 2));
        scanner.discoverIfRotated();
        assertThat(handOff.snapshot()).isEmpty();
    }

    @Test
    void theListingHasEveryRotatedNumberOldestFirstEvenAcrossAGap() throws IOException {
        write(dir, line("a", 1));
        rotate(dir, 5, line("b", 2));
        rotate(dir, 5, line("c", 3));
        Files.delete(ChainFixture.rotated(dir, 1));   // Docker renaming .1 to .2 at this moment
        assertThat(ChainScanner.files(dir, ID)).containsExactly(ChainFixture.rotated(dir, 2), current(dir));
    }
}
