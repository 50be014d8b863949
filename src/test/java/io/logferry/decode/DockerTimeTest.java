package io.logferry.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Docker's json-file time to epoch milliseconds: its own form exactly, anything else NONE, never an exception. */
class DockerTimeTest {
    private final DockerTime times = new DockerTime();

    @ParameterizedTest
    @ValueSource(strings = {"2026-12-08T01:55:12.123456789Z", "2026-12-08T01:55:12Z", "2026-12-08T01:55:12.1Z",
            "2026-12-08T01:55:12.12Z", "2026-12-08T01:55:12.120000000Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59.5Z", "9999-12-31T23:59:59.999999999Z"})
    void docker_sFormMatchesJavaTime(String t) {
        assertThat(times.epochMillis(t)).isEqualTo(Instant.parse(t).toEpochMilli());
    }

    @Test
    void linesOfTheSameMinuteAndTheNextAreRightWhateverCameBefore() {
        String[] seq = {"2026-12-08T01:55:12.5Z", "2026-12-08T01:55:59.999999999Z", "2026-12-08T01:56:00.000000001Z",
                "2026-12-08T01:55:00Z", "2027-01-01T00:00:00Z", "2026-12-08T01:56:30.25Z"};
        for (String t : seq) {
            assertThat(times.epochMillis(t)).as(t).isEqualTo(Instant.parse(t).toEpochMilli());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Z", "2026-12-08", "2026-12-08T01:55:12", "2026-12-08T01:55:12+01:00", "2026-12-08 01:55:12Z",
            "2026-13-08T01:55:12Z", "2026-02-30T01:55:12Z", "2026-12-08T24:00:00Z", "2026-12-08T01:60:00Z", "2026-12-08T01:55:61Z",
            "2026-12-08T01:55:1xZ", "2026-12-08T01:55:12.Z", "2026-12-08T01:55:12.1234567890Z", "2026-12-08T01:55:12,5Z",
            "2026-12-08T01:55:12.5aZ", "abcd-12-08T01:55:12Z", "2026-12-08T01:55:12.123456789ZZ", "\u0662026-12-08T01:55:12Z",
            "2026-12-08T01:55:12.12345678\u0669Z"})
    void anythingElseIsNone(String t) {
        assertThat(times.epochMillis(t)).isEqualTo(DockerTime.NONE);
        // and a valid time after it is still right (nothing cached from the bad one)
        assertThat(times.epochMillis("2026-12-08T01:55:12.5Z")).isEqualTo(Instant.parse("2026-12-08T01:55:12.5Z").toEpochMilli());
    }

    @Test
    void nullIsNone() {
        assertThat(times.epochMillis(null)).isEqualTo(DockerTime.NONE);
    }

    @Test
    void aBadStringOfACachedMinuteIsStillNone() {
        times.epochMillis("2026-12-08T01:55:12Z");
        assertThat(times.epochMillis("2026-12-08T01:55:9xZ")).isEqualTo(DockerTime.NONE);
        assertThat(times.epochMillis("2026-12-08T01:55:12.x5Z")).isEqualTo(DockerTime.NONE);
        assertThat(times.epochMillis("2026-12-08T01:55-12Z")).isEqualTo(DockerTime.NONE);
    }
}
