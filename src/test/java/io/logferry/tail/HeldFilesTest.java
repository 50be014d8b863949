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
        assertThat(h.over(2)).isFalse();
        assertThat(h.over(3)).as("more files than held_files_per_container").isTrue();
        assertThat(h.update(a, 600)).isEqualTo(1100);
        assertThat(h.over(1)).as("more bytes than held_bytes_total").isTrue();
        assertThat(h.update(a, 0)).isEqualTo(500);
        assertThat(h.update(b, 0)).isZero();
        assertThat(h.total()).isZero();
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
