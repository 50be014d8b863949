package io.logferry.tail;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class LineBufferTest {
    @Test
    void keepsAtMostTheCapAndCountsTheRest() {
        LineBuffer b = new LineBuffer(10);
        byte[] six = "abcdef".getBytes(StandardCharsets.US_ASCII);
        assertThat(b.append(six, 0, 6)).isZero();
        assertThat(b.append(six, 0, 6)).isEqualTo(2);
        assertThat(b.append(six, 0, 6)).isEqualTo(6);
        assertThat(b.held()).isEqualTo(10);
        assertThat(b.overflowed()).isTrue();
        assertThat(b.dropped()).isEqualTo(8);
        assertThat(b.take()).isEqualTo("abcdefabcd");
        assertThat(b.isEmpty()).isTrue();
        assertThat(b.overflowed()).isFalse();
        assertThat(b.dropped()).as("over all lines").isEqualTo(8);
    }

    @Test
    void anEmptyLineCutToNothingIsStillPending() {
        LineBuffer b = new LineBuffer(1);
        byte[] x = {'x', 'y'};
        b.append(x, 0, 2);
        assertThat(b.isEmpty()).isFalse();
        assertThat(b.take()).isEqualTo("x");
    }
}
