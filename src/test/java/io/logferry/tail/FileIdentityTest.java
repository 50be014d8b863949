package io.logferry.tail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The file fingerprint with fixed expected values: it is part of every document's {@code _id} and
 * of the registry, so a value that changes here duplicates every replayed line after an upgrade.
 * The values were computed by the fingerprint as it stood before it moved out of FileTailer.
 */
class FileIdentityTest {
    private static final String LINE_1 = "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:00.000000001Z\"}";
    private static final String LINE_2 = "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:00.000000002Z\"}";

    @TempDir
    Path dir;

    private static String of(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        return FileIdentity.fingerprint(b, 0, b.length);
    }

    @Test
    void firstLinesHaveFixedFingerprints() {
        assertThat(of(LINE_1)).isEqualTo("b55e181e088afced");
        assertThat(of(LINE_2)).as("one nanosecond later").isEqualTo("d8d3f00bbd77dbca");
        assertThat(of("")).isEqualTo("e3b0c44298fc1c14");
    }

    @Test
    void onlyTheFirst4KiBCount() {
        byte[] big = new byte[5000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        assertThat(FileIdentity.fingerprint(big, 0, 5000)).isEqualTo("bc45051ac426475f")
                .isEqualTo(FileIdentity.fingerprint(big, 0, 4096));
    }

    @Test
    void theLineIsTakenFromWhereItStartsInTheArray() {
        byte[] b = ("xx" + LINE_1 + "\n").getBytes(StandardCharsets.UTF_8);
        assertThat(FileIdentity.fingerprint(b, 2, LINE_1.length())).isEqualTo("b55e181e088afced");
    }

    @Test
    void aFileIsNamedByItsFirstCompleteLine() throws IOException {
        Path f = dir.resolve("a-json.log");
        Files.writeString(f, LINE_1);
        assertThat(FileIdentity.fingerprint(f)).as("no newline yet").isNull();
        Files.writeString(f, "\n" + LINE_2 + "\n", StandardOpenOption.APPEND);
        assertThat(FileIdentity.fingerprint(f)).isEqualTo("b55e181e088afced");
        try (FileChannel ch = FileChannel.open(f)) {
            ch.position(10);
            assertThat(FileIdentity.fingerprint(ch)).isEqualTo("b55e181e088afced");
            assertThat(ch.position()).as("positional reads only").isEqualTo(10);
        }
        assertThat(FileIdentity.fingerprint(dir.resolve("gone"))).isNull();
    }

    @Test
    void aFirstLineLongerThan64KiBIsNamedByItsFirst4KiB() throws IOException {
        Path f = dir.resolve("long");
        byte[] x = new byte[70_000];
        Arrays.fill(x, (byte) 'x');
        Files.write(f, x);
        assertThat(FileIdentity.fingerprint(f)).isEqualTo("a2e659dacb4691e8")
                .isEqualTo(FileIdentity.fingerprint(x, 0, 4096));
    }

    @Test
    void openStableNamesTheFileItOpened() throws IOException {
        Path f = dir.resolve("a-json.log");
        Files.writeString(f, LINE_1 + "\n");
        FileIdentity.Opened o = FileIdentity.openStable(f);
        try (FileChannel ch = o.channel()) {
            assertThat(o.key()).isEqualTo(FileIdentity.key(f)).isNotNull();
            Files.move(f, dir.resolve("a-json.log.1"));
            assertThat(FileIdentity.key(dir.resolve("a-json.log.1"))).as("a rename keeps the inode").isEqualTo(o.key());
            assertThat(ch.size()).isEqualTo(LINE_1.length() + 1);
        }
        assertThat(FileIdentity.openStable(f)).as("gone").isNull();
        assertThat(FileIdentity.key(f)).isNull();
    }
}
