package io.logferry.elasticsearch;

import org.apache.http.entity.ContentType;
import org.apache.http.nio.ContentEncoder;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class BulkBodyTest {
    /**
     * A connection whose send buffer takes {@code room} bytes before it is full; {@link #drained()}
     * empties it, as the socket does between two calls of the client's I/O reactor.
     */
    private static final class SlowChannel implements ContentEncoder {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final int room;
        int left;
        boolean completed;

        SlowChannel(int room) {
            this.room = room;
            this.left = room;
        }

        SlowChannel drained() {
            left = room;
            return this;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = Math.min(left, src.remaining());
            left -= n;
            for (int i = 0; i < n; i++) {
                got.write(src.get());
            }
            return n;
        }

        @Override
        public void complete() {
            completed = true;
        }

        @Override
        public boolean isCompleted() {
            return completed;
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String drain(BulkBody body, SlowChannel ch) throws Exception {
        int calls = 0;
        while (!ch.isCompleted()) {
            body.produceContent(ch.drained(), null);
            assertThat(++calls).as("produceContent must make progress").isLessThan(1000);
        }
        return ch.got.toString(StandardCharsets.UTF_8);
    }

    @Test
    void writesEveryPartInOrderAcrossPartialWrites() throws Exception {
        BulkBody body = new BulkBody(new byte[][] {b("{\"create\":{}}\n{\"a\":1}\n"), b(""), b("{\"create\":{}}\n{\"b\":2}\n")},
                ContentType.create("application/x-ndjson", StandardCharsets.UTF_8));
        String want = "{\"create\":{}}\n{\"a\":1}\n{\"create\":{}}\n{\"b\":2}\n";
        assertThat(body.getContentLength()).isEqualTo(want.length());
        assertThat(body.getContentType().getValue()).isEqualTo("application/x-ndjson; charset=UTF-8");
        assertThat(drain(body, new SlowChannel(5))).isEqualTo(want);
        assertThat(new String(body.getContent().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(want);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        body.writeTo(out);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(want);
    }

    @Test
    void partsLargerThanAChunkAndChunksSpanningParts() throws Exception {
        byte[] big = new byte[2 * BulkBody.CHUNK + 100];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        byte[] small = b("0123456789");
        BulkBody body = new BulkBody(new byte[][] {small, big, small, big, small}, ContentType.APPLICATION_JSON);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        body.writeTo(want);
        assertThat(want.size()).isEqualTo(3 * small.length + 2 * big.length);
        assertThat(drain(body, new SlowChannel(50_000)).getBytes(StandardCharsets.UTF_8)).isEqualTo(want.toByteArray());
    }

    @Test
    void closeRewindsSoThatARetrySendsTheWholeBodyAgain() throws Exception {
        BulkBody body = new BulkBody(new byte[][] {b("0123456789"), b("abcdefghij")}, ContentType.APPLICATION_JSON);
        SlowChannel first = new SlowChannel(7);
        body.produceContent(first, null);
        body.produceContent(first.drained(), null);   // 14 bytes sent, then the connection failed
        assertThat(first.isCompleted()).isFalse();
        assertThat(first.got.toString(StandardCharsets.UTF_8)).isEqualTo("0123456789abcd");
        body.close();
        assertThat(body.isRepeatable()).isTrue();
        assertThat(drain(body, new SlowChannel(3))).isEqualTo("0123456789abcdefghij");
    }
}
