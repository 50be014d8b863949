package io.logferry.tail;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeldFilesTest {
    @Test
    void theTotalIsTheSumOfWhatEachTailerHoldsNow() {
        HeldFiles h = new HeldFiles(2, 1000);
        Object a = new Object();
        Object b = new Object();
        assertThat(h.update(a, 300)).isEqualTo(300);
        assertThat(h.update(b, 500)).isEqualTo(800);
        assertThat(h.update(a, 100)).isEqualTo(600);
        assertThat(h.over(a, 2)).isFalse();
        assertThat(h.over(a, 3)).as("more files than held_files_per_container").isTrue();
        assertThat(h.update(a, 600)).isEqualTo(1100);
        assertThat(h.over(a, 1)).as("more bytes than held_bytes_total, and more than its share (500)").isTrue();
        assertThat(h.over(b, 1)).as("b holds its share exactly: it does not release for a's bytes").isFalse();
        assertThat(h.update(a, 0)).isEqualTo(500);
        assertThat(h.update(b, 0)).isZero();
        assertThat(h.total()).isZero();
    }

    @Test
    void aVictimWithinItsShareNeverReleasesForAHogsBytes() {
        HeldFiles h = new HeldFiles(100, 10_000_000);
        Object hog = new Object();
        Object victim = new Object();
        h.update(victim, 300_000);                      // two files of 100k-150k behind
        h.update(hog, 12_000_000);
        assertThat(h.over(victim, 2)).as("the victim is within its share of 5,000,000").isFalse();
        assertThat(h.over(hog, 2)).as("the hog is over its share: it releases").isTrue();
        h.update(hog, 9_000_000);
        assertThat(h.over(hog, 2)).as("the total is within held_bytes_total again").isFalse();
    }

    @Test
    void concurrentUpdatesKeepTheTotalExact() throws Exception {
        HeldFiles h = new HeldFiles(4, Long.MAX_VALUE);
        Thread[] threads = new Thread[8];
        for (int t = 0; t < threads.length; t++) {
            Object owner = new Object();
            threads[t] = Thread.ofPlatform().start(() -> {
                for (int i = 1; i <= 10_000; i++) {
                    h.update(owner, i);
                }
                h.update(owner, 7);
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(h.total()).isEqualTo(8 * 7);
    }
}
