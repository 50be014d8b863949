package io.logferry.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MainTest {
    @TempDir
    Path dir;

    private record Run(int code, String err) { }

    private static Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Run(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void aBadConfigExitsWithTwoAndNamesTheKey() throws Exception {
        Path f = dir.resolve("bad.yml");
        Files.writeString(f, "elasticsearch:\n  bulk_max_evnts: 10\nselection:\n  mode: sometimes\n");
        Run r = run("check", "--config", f.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("elasticsearch.bulk_max_evnts").contains("selection.mode");

        Run r2 = run("run", "--config=" + f);
        assertThat(r2.code()).isEqualTo(2);
        assertThat(r2.err()).contains("elasticsearch.bulk_max_evnts");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(run("frobnicate").code()).isEqualTo(2);
        assertThat(run("run", "--config").code()).isEqualTo(2);
        assertThat(run("run", "--bogus").code()).isEqualTo(2);
    }

    @Test
    void migrateNeedsFilebeatAndADirectoryAndReportsAnUnreadableRegistry() {
        assertThat(run("migrate").code()).isEqualTo(2);
        assertThat(run("migrate", "fluentd", dir.toString()).err()).contains("expected 'filebeat <Filebeat registry dir>'");
        assertThat(run("migrate", "filebeat").code()).isEqualTo(2);
        assertThat(run("migrate", "filebeat", dir.toString(), "--bogus").code()).isEqualTo(2);
        Run r = run("migrate", "filebeat", dir.toString(), "--dry-run");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("holds no Filebeat registry");
    }

    @Test
    void versionExitsWithZero() {
        assertThat(run("version").code()).isZero();
    }
}
