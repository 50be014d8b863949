package io.logferry.decode;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The fast path agrees with Jackson on every line it accepts, and declines what it cannot do. */
class FastDockerLineTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] line(String log, String stream) throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("log", log);
        n.put("stream", stream);
        n.put("time", "2026-01-01T00:00:00.123456789Z");
        return JSON.writeValueAsBytes(n);
    }

    @Test
    void agreesWithJacksonOnRandomText() throws Exception {
        Random r = new Random(7);
        FastDockerLine fast = new FastDockerLine();
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(60);
            for (int j = 0; j < n; j++) {
                int kind = r.nextInt(10);
                sb.append(kind < 6 ? (char) (' ' + r.nextInt(95)) : kind == 6 ? (char) r.nextInt(32)
                        : kind == 7 ? (char) (0xA0 + r.nextInt(0x700)) : kind == 8 ? "\uD83D\uDE00" : "\"\\/");
            }
            sb.append('\n');
            String log = sb.toString();
            byte[] b = line(log, i % 2 == 0 ? "stdout" : "stderr");
            DockerEntry e = fast.decode(b, 0, b.length, 5, 6);
            assertThat(e).as("accepted: %s", log).isNotNull();
            assertThat(e.log()).isEqualTo(log);
            assertThat(e.stream()).isEqualTo(i % 2 == 0 ? "stdout" : "stderr");
            assertThat(e.time()).isEqualTo("2026-01-01T00:00:00.123456789Z");
            assertThat(DockerJsonDecoder.decode(b, 0, b.length, 5, 6)).isEqualTo(new DockerEntry(log, e.stream(), e.time(), 5, 6));
        }
    }

    @Test
    void declinesWhatItDoesNotHandle() {
        FastDockerLine fast = new FastDockerLine();
        for (String s : new String[] {
                "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"attrs\":{\"x\":\"1\"},\"time\":\"t\"}",
                "{\"stream\":\"stdout\",\"log\":\"a\\n\",\"time\":\"t\"}",
                "{\"log\": \"a\\n\",\"stream\":\"stdout\",\"time\":\"t\"}",
                "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"t\"} x",
                "{\"log\":\"a\\q\",\"stream\":\"stdout\",\"time\":\"t\"}",
                "{\"log\":\"a",
                "not json"}) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertThat(fast.decode(b, 0, b.length, 0, 1)).as(s).isNull();
        }
        byte[] bad = {'{', '"', 'l', 'o', 'g', '"', ':', '"', (byte) 0xFF, '"', ',', '"', 's', 't', 'r', 'e', 'a', 'm', '"', ':', '"',
                's', 't', 'd', 'o', 'u', 't', '"', ',', '"', 't', 'i', 'm', 'e', '"', ':', '"', 't', '"', '}'};
        assertThat(fast.decode(bad, 0, bad.length, 0, 1)).as("invalid UTF-8 goes to the slow path").isNull();
    }
}
