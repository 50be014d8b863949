package io.logferry.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class TrainCommandTest {
    @Test
    void theTrainingRunShipsEveryGeneratedEventThroughTheWholeAgent() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code = new TrainCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8), 2_000).run("test");

        String out = bytes.toString(StandardCharsets.UTF_8);
        // 2,000 plain entries are 2,000 events; the realistic mix joins each 7-line stack trace into one
        assertThat(out).contains("logferry train: 4000 of 4000 events acknowledged");
        assertThat(code).isZero();
    }
}
