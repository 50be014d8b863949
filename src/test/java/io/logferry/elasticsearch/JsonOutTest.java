package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class JsonOutTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static String json(String s) {
        return new JsonOut(1).string(s).toString();
    }

    private static String parse(byte[] json) throws Exception {
        return MAPPER.readValue(json, String.class);
    }

    @Test
    void decodedJsonIsWrittenBackAsTheSameValue() throws Exception {
        String[] docs = {
            "{\"a\":\"x\\n\\\"y\\u0001 é 日本 😀\",\"n\":-12,\"big\":123456789012345678901234567890,\"f\":1.5,"
                    + "\"e\":1e300,\"t\":true,\"no\":false,\"z\":null,\"arr\":[1,[2,{}],\"s\",[]],\"o\":{\"p\":{\"q\":[]}}}",
            "[]", "\"just text\"", "0", "-0.0", "{\"\":\"\",\"k\\\"ey\":{}}"};
        for (String doc : docs) {
            Object tree = MAPPER.readValue(doc, Object.class);
            byte[] out = new JsonOut(1).value(tree).toBytes();
            assertThat(MAPPER.readTree(out)).as(new String(out, StandardCharsets.UTF_8)).isEqualTo(MAPPER.readTree(doc));
        }
        assertThat(new JsonOut(1).value(MAPPER.readValue("{\"a\":[1,2.5,\"b\"],\"c\":{\"d\":null}}", Object.class)).toString())
                .isEqualTo("{\"a\":[1,2.5,\"b\"],\"c\":{\"d\":null}}");
    }

    @Test
    void aDeepTreeIsWrittenWithoutRecursion() throws Exception {
        java.util.Map<String, Object> root = new java.util.LinkedHashMap<>();
        java.util.Map<String, Object> at = root;
        for (int i = 0; i < 200_000; i++) {
            java.util.Map<String, Object> next = new java.util.LinkedHashMap<>();
            at.put("k", i % 2 == 0 ? next : java.util.List.of(next));
            at = i % 2 == 0 ? next : next;
        }
        String out = new JsonOut(1).value(root).toString();
        assertThat(out).startsWith("{\"k\":{\"k\":[{\"k\":{").endsWith("}]}}");
    }

    @Test
    void escapes() {
        assertThat(json("plain")).isEqualTo("\"plain\"");
        assertThat(json("")).isEqualTo("\"\"");
        assertThat(json("say \"hi\"")).isEqualTo("\"say \\\"hi\\\"\"");
        assertThat(json("C:\\path\\")).isEqualTo("\"C:\\\\path\\\\\"");
        assertThat(json("a\nb\rc\td")).isEqualTo("\"a\\nb\\rc\\td\"");
        assertThat(json("\u0000")).isEqualTo("\"\\u0000\"");
        assertThat(json("\u0001\u001f\u0008\u000c")).isEqualTo("\"\\u0001\\u001f\\u0008\\u000c\"");
        assertThat(json("\u007f/</script>")).isEqualTo("\"\u007f/</script>\"");
    }

    @Test
    void nonAsciiIsWrittenAsUtf8() {
        for (String s : new String[] {"café", "日本語", "Ω≈ç√", "\u0080\u07ff\u0800\uffff", "🚀 rocket", "a😀b😀"}) {
            byte[] b = new JsonOut(1).string(s).toBytes();
            assertThat(b).isEqualTo(("\"" + s + "\"").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void loneSurrogatesBecomeTheReplacementCharacter() throws Exception {
        assertThat(parse(new JsonOut(1).string("a\ud83db").toBytes())).isEqualTo("a\ufffdb");
        assertThat(parse(new JsonOut(1).string("a\ude80b").toBytes())).isEqualTo("a\ufffdb");
        assertThat(parse(new JsonOut(1).string("end\ud83d").toBytes())).isEqualTo("end\ufffd");
        assertThat(parse(new JsonOut(1).string("\ude80\ud83d").toBytes())).isEqualTo("\ufffd\ufffd");
        assertThat(parse(new JsonOut(1).string("\ud83d\ud83d\ude80").toBytes())).isEqualTo("\ufffd\ud83d\ude80");
        byte[] b = new JsonOut(1).string("\ud83d").toBytes();
        assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("\"\ufffd\"");
    }

    @Test
    void keysNumbersAndRawBytesCompose() throws Exception {
        JsonOut o = new JsonOut(8);
        o.raw('{').key("n").number(-42).raw(',').key("s\"k").string("v").raw(',').key("r").raw("[1,2]".getBytes(StandardCharsets.US_ASCII)).raw('}');
        assertThat(MAPPER.readTree(o.toBytes()).toString()).isEqualTo("{\"n\":-42,\"s\\\"k\":\"v\",\"r\":[1,2]}");
        assertThat(o.length()).isEqualTo(o.toBytes().length);
        o.reset();
        assertThat(o.length()).isZero();
        o.ascii("x");
        assertThat(o.toString()).isEqualTo("x");
    }

    @Test
    void growsForEveryWorstCase() throws Exception {
        // every character the largest escape; tiny initial buffers
        for (String s : new String[] {"\u0000".repeat(1000), "\"".repeat(1000), "😀".repeat(1000), "日".repeat(1000),
                "a\u0001😀\ud800日\"".repeat(300)}) {
            JsonOut o = new JsonOut(1);
            o.ascii("[").string(s).raw(',').string(s).ascii("]");
            String[] back = MAPPER.readValue(o.toBytes(), String[].class);
            assertThat(back).containsExactly(s.replace('\ud800', '\ufffd'), s.replace('\ud800', '\ufffd'));
        }
    }

    @Test
    void randomStringsRoundTripThroughJackson() throws Exception {
        Random random = new Random(20240501);
        JsonOut o = new JsonOut(16);
        for (int n = 0; n < 5000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(40);
            for (int i = 0; i < len; i++) {
                switch (random.nextInt(6)) {
                    case 0 -> sb.append((char) random.nextInt(0x20));
                    case 1 -> sb.append("\"\\/\n\r\t".charAt(random.nextInt(6)));
                    case 2 -> sb.append((char) (0x20 + random.nextInt(0x60)));
                    case 3 -> sb.append((char) (0x80 + random.nextInt(0xD800 - 0x80)));
                    case 4 -> sb.appendCodePoint(0x10000 + random.nextInt(0x10FFFF - 0x10000));
                    default -> sb.append((char) (0xE000 + random.nextInt(0x2000)));
                }
            }
            String s = sb.toString();
            o.reset();
            o.string(s);
            byte[] b = o.toBytes();
            String back = parse(b);
            if (!back.equals(s)) {
                assertThat(back).as("round trip of %s", s.chars().mapToObj(Integer::toHexString).toList()).isEqualTo(s);
            }
        }
    }

    @Test
    void randomStringsWithSurrogatesAnywhere() throws Exception {
        Random random = new Random(7);
        for (int n = 0; n < 2000; n++) {
            char[] cs = new char[random.nextInt(20)];
            for (int i = 0; i < cs.length; i++) {
                cs[i] = random.nextBoolean() ? (char) (0xD800 + random.nextInt(0x800)) : (char) random.nextInt(0x10000);
            }
            String s = new String(cs);
            assertThat(parse(new JsonOut(1).string(s).toBytes())).isEqualTo(replaceLoneSurrogates(s));
        }
    }

    private static String replaceLoneSurrogates(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(c).append(s.charAt(++i));
            } else {
                out.append(Character.isSurrogate(c) ? '\ufffd' : c);
            }
        }
        return out.toString();
    }

    @Test
    void base64UrlIsRfc4648WithoutPadding() {
        Random r = new Random(7);
        for (int n = 0; n <= 40; n++) {
            byte[] b = new byte[n];
            r.nextBytes(b);
            assertThat(new JsonOut(1).base64Url(b).toString())
                    .isEqualTo(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b));
        }
    }
}
