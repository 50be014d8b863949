package io.logferry.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The in-flight file across "process deaths": an instance that is never closed is a process that
 * died (its mapped pages are the kernel's: a new mapping of the file sees what it wrote).
 */
class InFlightTest {
    @TempDir
    Path dir;

    private Path file() {
        return InFlight.beside(dir.resolve("registry.json"));
    }

    @Test
    void aFreshFileHasNothingInFlight() throws Exception {
        InFlight f = InFlight.open(file());
        assertThat(f.takePoison("c1")).isNull();
        assertThat(f.suspects()).isEmpty();
        assertThat(file().getFileName().toString()).isEqualTo("inflight");
    }

    @Test
    void aLineInFlightAtOneUncleanExitIsProcessedAgainAndAtTheSecondItIsAPoisonPill() throws Exception {
        InFlight run1 = InFlight.open(file());
        InFlight.Slot s1 = run1.take("c1");
        s1.begin("F", 0);
        s1.end();
        s1.begin("F", 4242);                  // ... and the process dies here (SIGKILL, out of memory)

        InFlight run2 = InFlight.open(file());
        assertThat(run2.takePoison("c1")).as("one unclean exit may be a kill: processed again").isNull();
        assertThat(run2.suspects()).containsExactly(new InFlight.Line("c1", "F", 4242));
        InFlight.Slot s2 = run2.take("c1");
        s2.begin("F", 4242);                  // the same line again: the process dies again

        InFlight run3 = InFlight.open(file());
        assertThat(run3.takePoison("c1")).isEqualTo(new InFlight.Line("c1", "F", 4242));
        assertThat(run3.takePoison("c1")).as("taken once").isNull();
        assertThat(run3.suspects()).isEmpty();
    }

    @Test
    void anUncleanExitOnAnotherLineIsNotAPoisonPill() throws Exception {
        InFlight run1 = InFlight.open(file());
        run1.take("c1").begin("F", 100);
        InFlight run2 = InFlight.open(file());
        run2.take("c1").begin("F", 200);
        InFlight run3 = InFlight.open(file());
        assertThat(run3.takePoison("c1")).isNull();
        assertThat(run3.suspects()).containsExactly(new InFlight.Line("c1", "F", 200));
    }

    @Test
    void aFatalErrorOnTheTailersThreadMakesItsLineAPoisonPillAtOnce() throws Exception {
        InFlight run1 = InFlight.open(file());
        InFlight.Slot other = run1.take("c2");
        Thread t = new Thread(() -> other.begin("G", 7));
        t.start();
        t.join();
        InFlight.Slot mine = run1.take("c1");
        mine.begin("F", 99);
        InFlight.fatal(Thread.currentThread());

        InFlight run2 = InFlight.open(file());
        assertThat(run2.takePoison("c1")).isEqualTo(new InFlight.Line("c1", "F", 99));
        assertThat(run2.takePoison("c2")).as("another thread's line is only a suspect").isNull();
        assertThat(run2.suspects()).containsExactly(new InFlight.Line("c2", "G", 7));
    }

    @Test
    void nothingIsInFlightAfterACleanExitAWaitOrTheLinesEnd() throws Exception {
        InFlight run1 = InFlight.open(file());
        run1.take("c1").begin("F", 1);
        run1.close();
        InFlight run2 = InFlight.open(file());
        assertThat(run2.suspects()).as("a clean exit").isEmpty();

        InFlight.Slot waiting = run2.take("c1");
        waiting.begin("F", 2);
        waiting.pause();                      // blocked on the full queue when killed
        InFlight.Slot done = run2.take("c2");
        done.begin("F", 3);
        done.end();
        InFlight.Slot released = run2.take("c3");
        released.begin("F", 4);
        released.release();
        InFlight run3 = InFlight.open(file());
        assertThat(run3.suspects()).isEmpty();
        assertThat(run3.takePoison("c1")).isNull();

        InFlight.Slot resumed = run3.take("c1");
        resumed.begin("F", 5);
        resumed.pause();
        resumed.resume();
        InFlight run4 = InFlight.open(file());
        assertThat(run4.suspects()).containsExactly(new InFlight.Line("c1", "F", 5));
    }

    @Test
    void slotsAreReusedAndTheFileSizeIsFixed() throws Exception {
        InFlight f = InFlight.open(file());
        for (int i = 0; i < InFlight.SLOTS * 2; i++) {
            InFlight.Slot s = f.take("c" + i);
            assertThat(s).isNotNull();
            s.begin("F", i);
            s.end();
            s.release();
        }
        assertThat(java.nio.file.Files.size(file())).isEqualTo(InFlight.SIZE);
    }
}
