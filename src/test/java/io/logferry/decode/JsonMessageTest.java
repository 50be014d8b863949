package io.logferry.decode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Which JSON is ECS, and where the fields of the rest go (docs/documents.md, "JSON decoding"). */
class JsonMessageTest {
    @ParameterizedTest(name = "{0} -> ecs {1}")
    @CsvSource(delimiter = '|', textBlock = """
            {"ecs.version":"1.6.0","message":"m"}                                         | true
            {"ecs":{"version":"8.10.0"},"msg":"m"}                                         | true
            {"@timestamp":"2026-01-01T00:00:00Z","log.level":"info","message":"m"}         | true
            {"@timestamp":"2026-01-01T00:00:00Z","log":{"level":"info"},"message":"m"}     | true
            {"@timestamp":"2026-01-01T00:00:00Z","level":"info","message":"m"}             | false
            {"log.level":"info","message":"m"}                                             | false
            {"@timestamp":"2026-01-01T00:00:00Z","log.level":"info"}                       | false
            {"ecs":"1.6.0","message":"m"}                                                  | false
            {"level":30,"msg":"pino default"}                                              | false
            """)
    void ecsIsRecognised(String line, boolean ecs) {
        assertThat(JsonMessage.decode(line, "").ecs()).isEqualTo(ecs);
    }

    @Test
    void otherJsonKeepsNonEcsNamesAtTheRootAndTheRestUnderJson() {
        JsonMessage.Result r = JsonMessage.decode(
                "{\"msg\":\"hi\",\"level\":\"warn\",\"duration_ms\":5,\"service\":\"billing\",\"user.name\":\"bob\",\"stream\":\"x\","
                        + "\"json\":1,\"tags\":[\"a\"],\"requestId\":\"r1\"}", "");
        assertThat(r.ecs()).isFalse();
        assertThat(r.text()).isEqualTo("hi");
        assertThat(r.level()).isEqualTo("warn");
        assertThat(r.fields().toString()).isEqualTo("{duration_ms=5, requestId=r1, json={service=billing, user={name=bob}, stream=x, "
                + "json=1, tags=[a]}}");
    }

    @ParameterizedTest(name = "{0} target ''{1}'' -> {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {"@timestamp":"2020-01-02T03:04:05.678Z","log.level":"info","message":"m"}   | ``     | 2020-01-02T03:04:05.678Z
            {"@timestamp":"2020-01-02T03:04:05.678+01:00","ecs.version":"1.6.0"}        | json   | 2020-01-02T02:04:05.678Z
            {"@timestamp":"2020-01-02T03:04:05Z","msg":"other JSON, keys at the root"}  | ``     | 2020-01-02T03:04:05Z
            {"@timestamp":"2020-01-02T03:04:05Z","msg":"other JSON, keys under json"}   | json   |
            {"@timestamp":"yesterday","log.level":"info","message":"m"}                 | ``     |
            {"@timestamp":12345,"msg":"m"}                                               | ``     |
            """)
    void overwriteKeysTakesAnRfc3339TimestampWhenTheKeysAreAtTheRoot(String line, String target, String time) {
        JsonMessage.Result r = JsonMessage.decode(line, "", target, io.logferry.model.FieldTree.Limits.DEFAULTS, true);
        assertThat(r.time()).isEqualTo(time);
        assertThat(r.fields().toString().contains("@timestamp")).isEqualTo(time == null);
        // without overwrite_keys, never
        assertThat(JsonMessage.decode(line, "", target, io.logferry.model.FieldTree.Limits.DEFAULTS, false).time()).isNull();
    }

    @Test
    void aTargetHoldsAllOfOtherJson() {
        JsonMessage.Result r = JsonMessage.decode("{\"msg\":\"hi\",\"duration_ms\":5,\"service\":\"billing\"}", "", "app");
        assertThat(r.fields().toString()).isEqualTo("{app={duration_ms=5, service=billing}}");
        assertThat(JsonMessage.decode("{\"msg\":\"only text\"}", "", "app").fields().isEmpty()).isTrue();
        // ECS JSON is merged as ECS whatever the target
        JsonMessage.Result ecs = JsonMessage.decode("{\"ecs.version\":\"1.6.0\",\"message\":\"m\",\"log.logger\":\"l\"}", "", "app");
        assertThat(ecs.ecs()).isTrue();
        assertThat(ecs.fields().toString()).isEqualTo("{ecs={version=1.6.0}, log={logger=l}}");
    }

    @Test
    void ecsJsonGivesItsMessageAndLevelDottedOrNested() {
        JsonMessage.Result dotted = JsonMessage.decode("{\"@timestamp\":\"t\",\"log.level\":\"ERROR\",\"message\":\"m\",\"log.logger\":\"l\"}", "");
        assertThat(dotted.text()).isEqualTo("m");
        assertThat(dotted.level()).isEqualTo("ERROR");
        assertThat(dotted.fields().toString()).isEqualTo("{@timestamp=t, log={logger=l}}");
        JsonMessage.Result nested = JsonMessage.decode("{\"@timestamp\":\"t\",\"log\":{\"level\":\"warn\"},\"message\":\"m\"}", "");
        assertThat(nested.level()).isEqualTo("warn");
        assertThat(nested.fields().containsKey("log")).as("an emptied log object is dropped").isFalse();
    }
}
