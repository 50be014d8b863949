package io.logferry.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.Streams;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The shared json-file cases (src/test/resources/fixtures/docker-json-cases.json), fed as the tailer feeds them. */
class DockerJsonFixtureTest {

    static Stream<Arguments> cases() throws IOException {
        try (InputStream in = DockerJsonFixtureTest.class.getResourceAsStream("/fixtures/docker-json-cases.json")) {
            assertThat(in).as("fixture on the test classpath").isNotNull();
            JsonNode root = new ObjectMapper().readTree(in);
            List<Arguments> out = new ArrayList<>();
            root.get("cases").forEach(c -> out.add(Arguments.of(c.get("name").asText(), c)));
            assertThat(out).hasSizeGreaterThanOrEqualTo(10);
            return out.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fixture(String name, JsonNode c) throws Exception {
        Streams streams = Streams.valueOf(c.get("streams").asText().toUpperCase(Locale.ROOT));
        Feed feed = new Feed(Feed.settings(streams));
        byte[] content = c.get("file_content").asText().getBytes(StandardCharsets.UTF_8);
        feed.bytes(content);

        List<JsonNode> expected = new ArrayList<>();
        c.get("expect").forEach(expected::add);
        assertThat(feed.out).as("events in order").hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            JsonNode want = expected.get(i);
            Feed.Out got = feed.out.get(i);
            if (want.path("error").asBoolean(false)) {
                assertThat(got.error()).as("event %d is a skipped, counted line", i).isNotNull();
                continue;
            }
            assertThat(got.message()).as("event %d is a message", i).isNotNull();
            Message m = got.message();
            assertThat(m.text()).as("message %d", i).isEqualTo(want.get("message").asText());
            assertThat(m.stream()).isEqualTo(want.get("stream").asText());
            assertThat(m.time()).isEqualTo(want.get("time").asText());
            TreeSet<String> flags = new TreeSet<>();
            want.path("flags").forEach(f -> flags.add(f.asText()));
            assertThat(flagNames(m.flags())).as("flags of message %d", i).isEqualTo(flags);
            if (want.has("attrs")) {
                Map<String, String> attrs = new ObjectMapper().convertValue(want.get("attrs"), Map.class);
                assertThat(m.attrs()).isEqualTo(attrs);
            }
        }
        assertThat(feed.malformed).isEqualTo((int) expected.stream().filter(e -> e.path("error").asBoolean(false)).count());
        assertThat(feed.ackAll()).as("consumed bytes").isEqualTo(c.get("consumed_bytes").asLong());
    }

    static TreeSet<String> flagNames(int flags) {
        TreeSet<String> out = new TreeSet<>();
        if ((flags & Message.MULTILINE) != 0) {
            out.add("multiline");
        }
        if ((flags & Message.TRUNCATED) != 0) {
            out.add("truncated");
        }
        if ((flags & Message.PARTIAL) != 0) {
            out.add("partial");
        }
        return out;
    }
}
