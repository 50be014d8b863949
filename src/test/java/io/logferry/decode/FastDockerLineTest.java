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
    void escapedTextIsTheTextWithoutItsNewlineAsValidJson() throws Exception {
        Random r = new Random(11);
        FastDockerLine fast = new FastDockerLine();
        int copied = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(40);
            for (int j = 0; j < n; j++) {
                int kind = r.nextInt(12);
                sb.append(kind < 6 ? (char) (' ' + r.nextInt(95)) : kind == 6 ? (char) r.nextInt(32)
                        : kind == 7 ? "<&>" : kind == 8 ? "\\r" : kind == 9 ? "\r\n" : kind == 10 ? "\"\\/" : "é");
            }
            String ending = switch (r.nextInt(4)) {
                case 0 -> "";
                case 1 -> "\r\n";
                default -> "\n";
            };
            String log = sb + ending;
            byte[] b = line(log, "stdout");
            // Docker escapes <, > and & as \\u003c, \\u003e, \\u0026
            b = new String(b, StandardCharsets.UTF_8).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                    .getBytes(StandardCharsets.UTF_8);
            DockerEntry e = fast.decode(b, 0, b.length, 5, 6, 1 << 20);
            assertThat(e.log()).isEqualTo(log);
            boolean ascii = log.chars().allMatch(c -> c < 0x80);
            boolean complete = log.endsWith("\n");
            if (!ascii || !complete || log.endsWith("\r\n")) {
                assertThat(e.escaped()).as("not copyable: %s", log).isNull();
                assertThat(e.partial()).isEqualTo(!complete);
                continue;
            }
            copied++;
            assertThat(e.escaped()).as("copyable: %s", log).isNotNull();
            assertThat(e.partial()).isFalse();
            String text = log.substring(0, log.length() - 1);
            assertThat(JSON.readValue(("\"" + new String(e.escaped(), StandardCharsets.US_ASCII) + "\"").getBytes(StandardCharsets.US_ASCII),
                    String.class)).as(log).isEqualTo(text);
        }
        assertThat(copied).isGreaterThan(2_000);
    }

    @Test
    void escapedTextOnlyWithinTheLimitAndOnlyWithValidEscapes() {
        FastDockerLine fast = new FastDockerLine();
        byte[] b = "{\"log\":\"0123456789\\n\",\"stream\":\"stdout\",\"time\":\"t\"}".getBytes(StandardCharsets.US_ASCII);
        assertThat(fast.decode(b, 0, b.length, 0, 1, 10).escaped()).asString(StandardCharsets.US_ASCII).isEqualTo("0123456789");
        assertThat(fast.decode(b, 0, b.length, 0, 1, 9).escaped()).isNull();
        assertThat(fast.decode(b, 0, b.length, 0, 1, 9).log()).isEqualTo("0123456789\n");
        assertThat(fast.decode(b, 0, b.length, 0, 1, 0).escaped()).isNull();
        // a lone surrogate escape becomes text (the document then writes U+FFFD), never copied
        byte[] lone = "{\"log\":\"a\\ud800b\\n\",\"stream\":\"stdout\",\"time\":\"t\"}".getBytes(StandardCharsets.US_ASCII);
        DockerEntry e = fast.decode(lone, 0, lone.length, 0, 1, 100);
        assertThat(e.escaped()).isNull();
        assertThat(e.log()).isEqualTo("a\ud800b\n");
        byte[] html = "{\"log\":\"\\u003cb\\u003e\\n\",\"stream\":\"stderr\",\"time\":\"t\"}".getBytes(StandardCharsets.US_ASCII);
        assertThat(fast.decode(html, 0, html.length, 0, 1, 100).escaped()).asString(StandardCharsets.US_ASCII).isEqualTo("\\u003cb\\u003e");
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
