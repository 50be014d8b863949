package io.logferry.tail;

import io.logferry.model.Cursor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The chain's holder: read files released once acknowledged, and the limits.held_* bound on the waiting ones. */
class ChainHolderTest {
    @TempDir
    Path dir;
    private final List<FileChannel> opened = new ArrayList<>();

    private FileChannel file(String name, int bytes) throws IOException {
        Path p = Files.write(dir.resolve(name), new byte[bytes]);
        FileChannel ch = ChainFixture.open(p);
        opened.add(ch);
        return ch;
    }

    private RotationChain.Source source(long seq, String name) throws IOException {
        return new RotationChain.Source(seq, file(name, 10), name, "fp-" + name, null, 0);
    }

    private RotationChain.Upcoming waiting(String name, int bytes) throws IOException {
        return new RotationChain.Upcoming(file(name, bytes), name, "fp-" + name, dir.resolve(name), null);
    }

    @Test
    void readFilesAreReleasedOnceTheCursorIsPastThemOldestFirstAndTheOneBeingReadNever() throws IOException {
        ChainHolder holder = new ChainHolder(HeldFiles.unbounded(), this);
        RotationChain.Source one = source(1, "one");
        RotationChain.Source two = source(2, "two");
        RotationChain.Source three = source(3, "three");
        holder.opened(one);
        holder.opened(two);
        holder.opened(three);
        assertThat(holder.acknowledged(null)).as("nothing acknowledged yet").isEmpty();
        assertThat(holder.acknowledged(new Cursor(2, "fp-two", 5))).as("two is acknowledged only up to offset 5").containsExactly(one);
        assertThat(one.acknowledged).isTrue();
        assertThat(holder.acknowledged(new Cursor(9, "later", 0))).as("the one being read stays").containsExactly(two);
        assertThat(holder.readNow()).isSameAs(three);
        assertThat(holder.holding()).isFalse();
    }

    @Test
    void aTruncatedFileReadAgainTakesItsNewNumber() throws IOException {
        ChainHolder holder = new ChainHolder(HeldFiles.unbounded(), this);
        RotationChain.Source one = source(1, "one");
        holder.opened(one);
        holder.renumber(4);
        holder.opened(source(5, "two"));
        assertThat(holder.acknowledged(new Cursor(4, "x", 0))).as("renumbered 4: not below 4").isEmpty();
        assertThat(holder.acknowledged(new Cursor(5, "x", 0))).containsExactly(one);
    }

    @Test
    void beyondTheFilesPerContainerTheOldestWaitingFileIsNamedButNeverTheNewest() throws IOException {
        HeldFiles held = new HeldFiles(1, Long.MAX_VALUE);
        ChainHolder holder = new ChainHolder(held, this);
        RotationChain.Upcoming a = waiting("a", 10);
        RotationChain.Upcoming b = waiting("b", 10);
        assertThat(holder.overLimit(List.of(a), u -> false)).as("one file: within").isNull();
        ChainHolder.Over over = holder.overLimit(List.of(a, b), u -> false);
        assertThat(over.oldest()).isSameAs(a);
        assertThat(over.live()).isEqualTo(2);
        assertThat(holder.overLimit(List.of(a, b), u -> u == a)).as("a is being moved: not counted again").isNull();
        assertThat(held.total()).isEqualTo(10);
    }

    @Test
    void overItsShareOfTheBytesTotalTheOldestIsNamedAndForgettingGivesTheBytesBack() throws IOException {
        HeldFiles held = new HeldFiles(100, 25);
        ChainHolder holder = new ChainHolder(held, this);
        RotationChain.Upcoming a = waiting("a", 20);
        RotationChain.Upcoming b = waiting("b", 20);
        assertThat(holder.overLimit(List.of(a, b), u -> false).oldest()).as("40 held, 25 allowed").isSameAs(a);
        assertThat(held.total()).isEqualTo(40);
        holder.forget();
        assertThat(held.total()).isZero();
    }

    @org.junit.jupiter.api.AfterEach
    void close() throws IOException {
        for (FileChannel ch : opened) {
            ch.close();
        }
    }
}
