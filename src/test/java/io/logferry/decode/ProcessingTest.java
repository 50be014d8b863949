package io.logferry.decode;

import io.logferry.model.ContainerSettings;
import io.logferry.model.ProcessorChain;
import io.logferry.model.Streams;
import io.logferry.process.Compiler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The container's processors in the assembler: after multiline and JSON, drops acknowledged like excluded lines. */
class ProcessingTest {
    private static final Compiler.Bounds BOUNDS = new Compiler.Bounds(4096, 64, 1024);

    /** A chain from processors given as "kind ; k=v ; k=v", as numbered labels read by {@link Compiler#compile}. */
    static ProcessorChain chain(String... processors) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (int n = 0; n < processors.length; n++) {
            String[] parts = processors[n].split(" ; ");
            for (int i = 1; i < parts.length; i++) {
                int eq = parts[i].indexOf('=');
                labels.put("logferry.processors." + (n + 1) + "." + parts[0] + "." + parts[i].substring(0, eq), parts[i].substring(eq + 1));
            }
            if (parts.length == 1) {
                labels.put("logferry.processors." + (n + 1) + "." + parts[0], "");
            }
        }
        io.logferry.process.Chain c = Compiler.compile(labels, "logferry.processors.", BOUNDS);
        if (!c.refused().isEmpty()) {
            throw new IllegalArgumentException(c.refused().toString());
        }
        return c;
    }

    private static Feed feed(boolean json, ContainerSettings.MultilineRule rule, String... processors) {
        ContainerSettings s = Feed.settings(Streams.ALL, rule, 1 << 20, List.of(), List.of(), json, "")
                .withProcessing(null, chain(processors));
        return new Feed(s);
    }

    @Test
    void dissectFieldsComeWithTheMessageAndTheFastPathIsOff() throws Exception {
        Feed f = feed(false, Feed.none(), "dissect ; tokenizer=%{level} %{msg}");
        assertThat(f.assembler.escapedLimit()).isZero();
        f.line("stdout", "WARN disk low");
        Message m = f.messages.get(0);
        assertThat(m.text()).isEqualTo("WARN disk low");
        assertThat(m.fields()).isEqualTo(Map.of("dissect", Map.of("level", "WARN", "msg", "disk low")));
        assertThat(m.flags() & Message.DISSECT_ERROR).isZero();
    }

    @Test
    void aDissectFailureFlagsTheMessage() throws Exception {
        Feed f = feed(false, Feed.none(), "dissect ; tokenizer=%{a}|%{b}");
        f.line("stdout", "no bar here");
        assertThat(f.messages.get(0).flags() & Message.DISSECT_ERROR).isNotZero();
        assertThat(f.messages.get(0).fields()).isEmpty();
    }

    @Test
    void aTimestampProcessorSetsTheMessagesTimeAndNothingElseDoes() throws Exception {
        Feed f = feed(false, Feed.none(), "dissect ; tokenizer=%{ts} %{rest} ; target_prefix=",
                "timestamp ; field=ts ; layouts=2006-01-02T15:04:05Z07:00");
        f.line("stdout", "2021-05-06T07:08:09+02:00 hello");
        assertThat(f.messages.get(0).time()).isEqualTo("2021-05-06T05:08:09Z");
        assertThat(f.messages.get(0).fields()).doesNotContainKey("@timestamp");
        // a text at @timestamp (add_fields, rename) is content: the time stays Docker's, the text goes under json later
        Feed g = feed(false, Feed.none(), "add_fields ; target= ; fields.@timestamp=2000-01-01T00:00:00Z");
        g.line("stdout", "x");
        assertThat(g.messages.get(0).time()).isNotEqualTo("2000-01-01T00:00:00Z");
        assertThat(g.messages.get(0).fields()).containsEntry("@timestamp", "2000-01-01T00:00:00Z");
        // another target_field: the ISO text there
        Feed h = feed(false, Feed.none(), "dissect ; tokenizer=%{ts} %{rest} ; target_prefix=",
                "timestamp ; field=ts ; layouts=UNIX_MS ; target_field=event.created");
        h.line("stdout", "1596438620123 x");
        assertThat(io.logferry.model.FieldTree.of(h.messages.get(0).fields(), io.logferry.model.FieldTree.Limits.DEFAULTS).root())
                .extractingByKey("event").isEqualTo(Map.of("created", "2020-08-03T07:10:20.123Z"));
    }

    @Test
    void dropEventDropsAndTheCursorMovesOverIt() throws Exception {
        Feed f = feed(false, Feed.none(), "drop_event ; when.regexp.message=^DEBUG");
        f.lines("stdout", "INFO one", "DEBUG two", "INFO three", "DEBUG four");
        assertThat(f.texts()).containsExactly("INFO one", "INFO three");
        assertThat(f.filtered).containsExactly("drop_event", "drop_event");
        long end = f.ackAll();
        assertThat(end).isEqualTo(f.skips.get(f.skips.size() - 1).offset());   // the last, dropped line is committed too
        assertThat(end).isGreaterThan(0);
    }

    @Test
    void processorsRunOnTheJoinedMultilineEvent() throws Exception {
        Feed f = feed(false, Feed.rule("custom", io.logferry.model.Regexes.compile("^\\s"), false, true, 100),
                "dissect ; tokenizer=%{first}\n%{rest}");
        f.lines("stdout", "Exception x", "  at a", "  at b", "next");
        f.assembler.flushAll();
        assertThat(f.messages.get(0).fields()).isEqualTo(Map.of("dissect", Map.of("first", "Exception x", "rest", "  at a\n  at b")));
    }

    @Test
    void jsonFieldsAreTheEventsAndClashesStayUnderJson() throws Exception {
        // user (an ECS name) and stream (the agent's) of JSON that is not ECS are under json (JsonMessage); a processor may move them
        Feed f = feed(true, Feed.none(), "rename ; fields.0.from=json.user ; fields.0.to=user.name",
                "drop_fields ; fields=json.stream", "add_tags ; tags=j");
        f.line("stdout", "{\"msg\":\"hi\",\"level\":\"warn\",\"user\":\"bob\",\"stream\":\"x\",\"host.ip\":\"1.2.3.4\",\"n\":5}");
        Message m = f.messages.get(0);
        assertThat(m.text()).isEqualTo("hi");
        assertThat(m.level()).isEqualTo("warn");
        assertThat(m.json()).isNull();
        assertThat(m.fields()).isEqualTo(Map.of("user", Map.of("name", "bob"), "n", 5L, "json", Map.of("host", Map.of("ip", "1.2.3.4")),
                "tags", List.of("j")));
    }

    @Test
    void processorsCanRemoveTheMessageAndSetTheLevel() throws Exception {
        Feed f = feed(false, Feed.none(), "dissect ; tokenizer=%{log.level} %{rest} ; target_prefix=",
                "drop_fields ; fields=message");
        f.line("stderr", "ERROR it broke");
        Message m = f.messages.get(0);
        assertThat(m.text()).isNull();
        assertThat(m.level()).isEqualTo("ERROR");
        assertThat(m.fields()).isEqualTo(Map.of("rest", "it broke"));
    }
}
