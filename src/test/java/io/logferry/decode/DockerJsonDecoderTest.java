package io.logferry.decode;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DockerJsonDecoderTest {

    private static DockerEntry decode(String line) throws DockerJsonDecoder.MalformedLineException {
        byte[] b = ("xx" + line + "yy").getBytes(StandardCharsets.UTF_8);
        return DockerJsonDecoder.decode(b, 2, b.length - 4, 100, 200);
    }

    @Test
    void decodesAnEntryInsideALargerBuffer() throws Exception {
        DockerEntry e = decode("{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-01T00:00:00.123456789Z\"}");
        assertThat(e).isEqualTo(new DockerEntry("hi\n", "stderr", "2024-01-01T00:00:00.123456789Z", 100, 200));
        assertThat(e.partial()).isFalse();
        assertThat(decode("{\"log\":\"half\",\"stream\":\"stdout\",\"time\":\"t\"}").partial()).isTrue();
    }

    @Test
    void fieldsInAnyOrderUnknownFieldsSkippedStreamDefaultsToStdout() throws Exception {
        DockerEntry e = decode("{\"time\":\"t\",\"extra\":{\"log\":\"no\",\"a\":[1,{\"b\":2}]},\"log\":\"yes\\n\"}");
        assertThat(e.log()).isEqualTo("yes\n");
        assertThat(e.stream()).isEqualTo("stdout");
    }

    @Test
    void attrsAreKept() throws Exception {
        DockerEntry e = decode("{\"log\":\"x\\n\",\"attrs\":{\"tag\":\"web\",\"n\":3,\"o\":{\"p\":1}},\"time\":\"t\"}");
        assertThat(e.attrs()).isEqualTo(Map.of("tag", "web", "n", "3"));
        assertThat(decode("{\"log\":\"x\\n\",\"time\":\"t\"}").attrs()).isEmpty();
    }

    @Test
    void aNonStringLogIsMalformedAndDoesNotConfuseTheParser() {
        assertThatThrownBy(() -> decode("{\"log\":{\"time\":\"t\"},\"stream\":\"stdout\"}"))
                .isInstanceOf(DockerJsonDecoder.MalformedLineException.class);
        assertThatThrownBy(() -> decode("{\"log\":[\"a\"],\"time\":\"t\"}"))
                .isInstanceOf(DockerJsonDecoder.MalformedLineException.class);
    }

    @Test
    void malformedLines() {
        for (String bad : new String[] {"", "not json", "[1]", "{\"log\":\"x\\n\"}", "{\"time\":\"t\"}",
                "{\"log\":\"x\\n\",\"time\":\"t\"", "{\"log\":\"x\\n\",\"time\":\"t\"} {}", "{\"log\":\"x\\n\",\"time\":\"t\"} x",
                "\"just a string\""}) {
            assertThatThrownBy(() -> decode(bad)).as(bad).isInstanceOf(DockerJsonDecoder.MalformedLineException.class)
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void invalidUtf8IsReplacedNotRefused() throws Exception {
        byte[] b = {'{', '"', 'l', 'o', 'g', '"', ':', '"', 'a', (byte) 0x80, 'b', (byte) 0xE2, (byte) 0x82, '"', ',',
                '"', 't', 'i', 'm', 'e', '"', ':', '"', 't', '"', '}'};
        DockerEntry e = DockerJsonDecoder.decode(b, 0, b.length, 0, b.length + 1);
        assertThat(e.log()).isEqualTo("a\uFFFDb\uFFFD");
    }

    @Test
    void validUtf8() {
        byte[] text = "héllo 日本 🚀".getBytes(StandardCharsets.UTF_8);
        assertThat(DockerJsonDecoder.validUtf8(text, 0, text.length)).isTrue();
        assertThat(DockerJsonDecoder.validUtf8(text, 0, text.length - 1)).as("cut inside the last character").isFalse();
        assertThat(DockerJsonDecoder.validUtf8(new byte[] {'a', (byte) 0xC3}, 0, 2)).isFalse();
        assertThat(DockerJsonDecoder.validUtf8(new byte[] {(byte) 0xC3, (byte) 0xA9}, 0, 2)).isTrue();
        assertThat(DockerJsonDecoder.validUtf8(new byte[] {(byte) 0xFF}, 0, 1)).isFalse();
    }
}
