package io.logferry.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RegistryTest {
    private static final Map<String, Registry.Entry> FIRST = Map.of(
            "c1", new Registry.Entry("aaaa", 123, "/var/lib/docker/containers/c1/c1-json.log"),
            "c2", new Registry.Entry("bbbb", 0, ""));
    private static final Map<String, Registry.Entry> SECOND = Map.of(
            "c1", new Registry.Entry("aaaa", 456, "/var/lib/docker/containers/c1/c1-json.log"),
            "c3", new Registry.Entry("cccc", 9_000_000_000L, "/x"));

    @TempDir
    Path dir;

    private Registry registry() {
        return new Registry(dir.resolve("sub/registry.json"));
    }

    private Path backup() {
        return dir.resolve("sub/registry.json.bak");
    }

    @Test
    void noFilesGiveAnEmptyRegistry() {
        assertThat(registry().load()).isEmpty();
    }

    @Test
    void writeThenLoad() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        assertThat(r.load()).isEqualTo(FIRST);
        assertThat(new Registry(dir.resolve("sub/registry.json")).load()).isEqualTo(FIRST);
        r.write(SECOND);
        assertThat(r.load()).isEqualTo(SECOND);
        r.write(Map.of());
        assertThat(r.load()).isEmpty();
        assertThat(Files.readString(r.path())).contains("\"version\" : 1");
        try (var files = Files.list(dir.resolve("sub"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("registry.json", "registry.json.bak");
        }
    }

    @Test
    void theSameEntriesAreNotWrittenAgain() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        Files.setLastModifiedTime(r.path(), java.nio.file.attribute.FileTime.fromMillis(1_000));
        r.write(new java.util.HashMap<>(FIRST));
        assertThat(Files.getLastModifiedTime(r.path()).toMillis()).as("an unchanged registry is left as it is").isEqualTo(1_000);
        assertThat(Files.exists(dir.resolve("sub/registry.json.bak"))).as("no backup made of it either").isFalse();
        r.write(SECOND);
        assertThat(Files.getLastModifiedTime(r.path())).isNotEqualTo(java.nio.file.attribute.FileTime.fromMillis(1_000))
                .isNotNull();
        assertThat(r.load()).isEqualTo(SECOND);
    }

    @Test
    void filesAreReadableByTheOwnerOnly() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Set<PosixFilePermission> owner = Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.getPosixFilePermissions(r.path())).isEqualTo(owner);
        assertThat(Files.getPosixFilePermissions(backup())).isEqualTo(owner);
    }

    @Test
    void aTruncatedFileFallsBackToTheBackup() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Files.write(r.path(), new byte[0]);
        assertThat(r.load()).isEqualTo(FIRST);
    }

    @Test
    void aHalfWrittenFileFallsBackToTheBackup() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        String text = Files.readString(r.path());
        Files.writeString(r.path(), text.substring(0, text.length() / 2));
        assertThat(r.load()).isEqualTo(FIRST);
    }

    @Test
    void garbageFallsBackToTheBackup() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Files.write(r.path(), new byte[] {0, 1, 2, (byte) 0xFF, 'x'});
        assertThat(r.load()).isEqualTo(FIRST);
        Files.writeString(r.path(), "[]");
        assertThat(r.load()).isEqualTo(FIRST);
        Files.writeString(r.path(), "{\"version\":1,\"containers\":{\"c1\":{\"offset\":5}}}");
        assertThat(r.load()).as("an entry without its file").isEqualTo(FIRST);
    }

    @Test
    void anUnknownVersionFallsBackToTheBackup() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Files.writeString(r.path(), "{\"version\":2,\"containers\":{}}");
        assertThat(r.load()).isEqualTo(FIRST);
        Files.writeString(r.path(), "{\"containers\":{}}");
        assertThat(r.load()).isEqualTo(FIRST);
    }

    @Test
    void bothCorruptGiveAnEmptyRegistry() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Files.writeString(r.path(), "nope");
        Files.writeString(backup(), "nope");
        assertThat(r.load()).isEmpty();
    }

    @Test
    void onlyTheBackupLeftIsUsed() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Files.delete(r.path());
        assertThat(r.load()).isEqualTo(FIRST);
    }

    @Test
    void writingOverACorruptFileKeepsTheGoodBackup() throws Exception {
        Registry r = registry();
        r.write(FIRST);
        r.write(SECOND);
        Files.writeString(r.path(), "{\"version\":1,\"contai");       // a torn write
        assertThat(r.load()).isEqualTo(FIRST);
        r.write(FIRST);
        // the corrupt file did not become the backup: if the main file is lost now, the backup still holds offsets
        Files.write(r.path(), new byte[0]);
        assertThat(r.load()).isEqualTo(FIRST);
    }

    @Test
    void aLeftoverTempFileDoesNotStopTheNextWrite() throws Exception {
        Registry r = registry();
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/registry.json.tmp"), "half");
        r.write(FIRST);
        assertThat(r.load()).isEqualTo(FIRST);
        assertThat(dir.resolve("sub/registry.json.tmp")).doesNotExist();
    }
}
