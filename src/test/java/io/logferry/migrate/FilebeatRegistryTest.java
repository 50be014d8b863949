package io.logferry.migrate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

import static io.logferry.migrate.FilebeatFixture.containerKey;
import static io.logferry.migrate.FilebeatFixture.containerState;
import static io.logferry.migrate.FilebeatFixture.filestreamState;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FilebeatRegistryTest {
    private static final String A = "/var/lib/docker/containers/" + "a".repeat(64) + "/" + "a".repeat(64) + "-json.log";
    private static final String B = "/var/lib/docker/containers/" + "b".repeat(64) + "/" + "b".repeat(64) + "-json.log";

    @TempDir
    Path home;

    private static Map<String, FilebeatRegistry.State> byKey(FilebeatRegistry.Loaded l) {
        return l.states().stream().collect(Collectors.toMap(FilebeatRegistry.State::key, s -> s));
    }

    @Test
    void theCheckpointThenTheLogOperationsAfterIt() throws IOException {
        new FilebeatFixture(7)
                .inCheckpoint(containerKey(11, 2049), containerState(A, 11, 2049, 100))
                .inCheckpoint(containerKey(12, 2049), containerState(B, 12, 2049, 50))
                .set(containerKey(11, 2049), containerState(A, 11, 2049, 300))
                .remove(containerKey(12, 2049))
                .set(containerKey(13, 2049), containerState(B, 13, 2049, 0))
                .write(home);

        FilebeatRegistry.Loaded l = FilebeatRegistry.load(home);   // Filebeat's home given: data/registry/filebeat found

        assertThat(l.warnings()).isEmpty();
        Map<String, FilebeatRegistry.State> s = byKey(l);
        assertThat(s).containsOnlyKeys(containerKey(11, 2049), containerKey(13, 2049));
        FilebeatRegistry.State a = s.get(containerKey(11, 2049));
        assertThat(a.offset()).isEqualTo(300);
        assertThat(a.source()).isEqualTo(A);
        assertThat(a.input()).isEqualTo("container");
        assertThat(a.identity()).isEqualTo(FilebeatRegistry.Identity.NATIVE);
        assertThat(a.inode()).isEqualTo(11);
        assertThat(a.device()).isEqualTo(2049);
    }

    @Test
    void operationsNotNewerThanTheCheckpointAreSkipped() throws IOException {
        // a log left over from before the checkpoint (Filebeat restarted before truncating it): ids 3 and 4 <= 5
        FilebeatFixture f = new FilebeatFixture(5).inCheckpoint(containerKey(11, 1), containerState(A, 11, 1, 500))
                .raw("{\"op\":\"set\",\"id\":3}\n{\"k\":\"" + containerKey(11, 1) + "\",\"v\":" + containerState(A, 11, 1, 10) + "}\n")
                .raw("{\"op\":\"remove\",\"id\":4}\n{\"k\":\"" + containerKey(11, 1) + "\"}\n");
        Path dir = f.write(home);

        FilebeatRegistry.Loaded l = FilebeatRegistry.load(dir);

        assertThat(byKey(l).get(containerKey(11, 1)).offset()).isEqualTo(500);
    }

    @Test
    void aCutOffLastOperationIsIgnoredAsFilebeatIgnoresIt() throws IOException {
        Path dir = new FilebeatFixture(0)
                .set(containerKey(11, 1), containerState(A, 11, 1, 100))
                .raw("{\"op\":\"set\",\"id\":2}\n{\"k\":\"" + containerKey(11, 1) + "\",\"v\":{\"offset\":2")
                .write(home);

        FilebeatRegistry.Loaded l = FilebeatRegistry.load(dir);

        assertThat(byKey(l).get(containerKey(11, 1)).offset()).isEqualTo(100);
        assertThat(l.warnings()).singleElement().asString().contains("cut off");
    }

    @Test
    void aGapInTheIdsEndsTheLog() throws IOException {
        Path dir = new FilebeatFixture(0)
                .set(containerKey(11, 1), containerState(A, 11, 1, 100))
                .raw("{\"op\":\"set\",\"id\":9}\n{\"k\":\"" + containerKey(11, 1) + "\",\"v\":" + containerState(A, 11, 1, 900) + "}\n")
                .write(home);

        FilebeatRegistry.Loaded l = FilebeatRegistry.load(dir);

        assertThat(byKey(l).get(containerKey(11, 1)).offset()).isEqualTo(100);
        assertThat(l.warnings()).singleElement().asString().contains("operation 9 follows 1");
    }

    @Test
    void filestreamStatesNativeAndFingerprint() throws IOException {
        String fp = "ab".repeat(32);
        Path dir = new FilebeatFixture(0)
                .set("filestream::docker-logs::native::4349261-16777229", filestreamState(A, "native", 1150))
                .set("filestream::my::input::fingerprint::" + fp, filestreamState(B, "fingerprint", -1))
                .set("filestream::other::path::/var/log/x.log", filestreamState("/var/log/x.log", "path", 5))
                .set("some-other-input::key", "{\"a\":1}")
                .write(home);

        FilebeatRegistry.Loaded l = FilebeatRegistry.load(dir.getParent());   // data/registry given

        Map<String, FilebeatRegistry.State> s = byKey(l);
        FilebeatRegistry.State n = s.get("filestream::docker-logs::native::4349261-16777229");
        assertThat(n.identity()).isEqualTo(FilebeatRegistry.Identity.NATIVE);
        assertThat(n.inode()).isEqualTo(4349261);
        assertThat(n.device()).isEqualTo(16777229);
        assertThat(n.offset()).isEqualTo(1150);
        assertThat(n.source()).isEqualTo(A);
        FilebeatRegistry.State f = s.get("filestream::my::input::fingerprint::" + fp);
        assertThat(f.identity()).isEqualTo(FilebeatRegistry.Identity.FINGERPRINT);
        assertThat(f.fingerprint()).isEqualTo(fp);
        assertThat(f.offset()).as("cursor null: nothing acknowledged").isEqualTo(-1);
        assertThat(s.get("filestream::other::path::/var/log/x.log").identity()).isEqualTo(FilebeatRegistry.Identity.OTHER);
        assertThat(s).doesNotContainKey("some-other-input::key");
        assertThat(l.warnings()).singleElement().asString().contains("'path'");
    }

    @Test
    void activeDatNamingAMissingCheckpointFallsBackToTheNewest() throws IOException {
        Path dir = new FilebeatFixture(20).inCheckpoint(containerKey(11, 1), containerState(A, 11, 1, 77)).write(home);
        Files.writeString(dir.resolve("active.dat"), "/usr/share/filebeat/data/registry/filebeat/19.json");

        FilebeatRegistry.Loaded l = FilebeatRegistry.load(dir);

        assertThat(byKey(l).get(containerKey(11, 1)).offset()).isEqualTo(77);
        assertThat(l.warnings()).singleElement().asString().contains("19.json");
    }

    @Test
    void anUnknownStoreVersionOrNoRegistryIsAnError() throws IOException {
        assertThatThrownBy(() -> FilebeatRegistry.load(home)).hasMessageContaining("holds no Filebeat registry");
        Path dir = new FilebeatFixture(0).write(home);
        Files.writeString(dir.resolve("meta.json"), "{\"version\":\"2\"}");
        assertThatThrownBy(() -> FilebeatRegistry.load(dir)).hasMessageContaining("version '2'");
        Files.writeString(dir.resolve("meta.json"), "{\"version\":\"1\"}");
        Files.writeString(dir.resolve("3.json"), "{not json");
        Files.writeString(dir.resolve("active.dat"), "3.json");
        assertThatThrownBy(() -> FilebeatRegistry.load(dir)).hasMessageContaining("not valid JSON");
    }
}
