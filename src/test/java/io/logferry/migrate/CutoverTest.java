package io.logferry.migrate;

import io.logferry.registry.Registry;
import io.logferry.tail.FileIdentity;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.logferry.migrate.FilebeatFixture.containerKey;
import static io.logferry.migrate.FilebeatFixture.containerState;
import static io.logferry.migrate.FilebeatFixture.filestreamState;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Filebeat registries (written in Filebeat's format by {@link FilebeatFixture}) against real
 * json-file logs in a temporary containers directory: their inodes and devices are read from the
 * files, as Filebeat recorded them.
 */
class CutoverTest {
    private static final String ID = "c0ffee".repeat(10) + "abcd";
    private static final String OTHER = "d".repeat(64);

    @TempDir
    Path containers;
    @TempDir
    Path home;
    private Path dir;
    private Path live;
    private final Map<String, Cutover.Candidate> candidates = new HashMap<>();

    @BeforeEach
    void container() throws IOException {
        dir = Files.createDirectories(containers.resolve(ID));
        live = dir.resolve(ID + "-json.log");
        candidates.put(ID, new Cutover.Candidate(ID, "web", true, "", false));
    }

    /** Docker's json-file lines {@code from..to}; returns the byte offset after each line, index 0 = start. */
    private static long[] write(Path file, int from, int to) throws IOException {
        StringBuilder b = new StringBuilder();
        long[] ends = new long[to - from + 2];
        long at = Files.exists(file) ? Files.size(file) : 0;
        ends[0] = at;
        for (int i = from; i <= to; i++) {
            String line = "{\"log\":\"line " + i + "\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-07T22:00:00." + String.format("%09d", i) + "Z\"}\n";
            b.append(line);
            at += line.getBytes(StandardCharsets.UTF_8).length;
            ends[i - from + 1] = at;
        }
        Files.writeString(file, b, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        return ends;
    }

    private static long inode(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    private static long device(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:dev")).longValue();
    }

    /** Filebeat's container-input state of {@code file} (its inode now) at {@code offset}, as Filebeat saw the path. */
    private static String[] stateOf(Path file, String source, long offset) throws IOException {
        return new String[]{containerKey(inode(file), device(file)), containerState(source, inode(file), device(file), offset)};
    }

    private static String source(String id) {
        return "/var/lib/docker/containers/" + id + "/" + id + "-json.log";
    }

    private Cutover.Plan plan(FilebeatFixture f, Map<String, Registry.Entry> existing, boolean force) throws IOException {
        Path reg = f.write(home);
        FilebeatRegistry.Loaded l = FilebeatRegistry.load(reg);
        return new Cutover(containers).plan(l.states(), candidates, existing, force);
    }

    @Test
    void resumesInTheLiveFileAtFilebeatsOffset() throws IOException {
        long[] ends = write(live, 1, 10);
        String[] s = stateOf(live, source(ID), ends[4]);

        Cutover.Plan p = plan(new FilebeatFixture(0).set(s[0], s[1]), Map.of(), false);

        assertThat(p.results()).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(Cutover.Outcome.RESUME);
            assertThat(r.line()).contains("web c0ffeec0ffee").contains("at byte " + ends[4]);
        });
        assertThat(p.entries()).containsOnlyKeys(ID);
        Registry.Entry e = p.entries().get(ID);
        assertThat(e.fileId()).isEqualTo(FileIdentity.fingerprint(live));
        assertThat(e.offset()).isEqualTo(ends[4]);
        assertThat(e.path()).isEqualTo(live.toString());
        assertThat(e.read()).as("the rest of the file, so that the agent reports it if Docker deletes it before the start")
                .containsExactly(new Registry.Read(e.fileId(), ends[4], ends[10]));
        assertThat(p.refusedAny()).isFalse();
    }

    @Test
    void aFileDockerRotatedIsFoundByItsInodeAndTheNewerFilesFollowFromTheirStart() throws IOException {
        long[] first = write(live, 1, 10);
        String[] s = stateOf(live, source(ID), first[7]);          // Filebeat at line 7 of the file, then Docker rotated it
        Path rotated = dir.resolve(ID + "-json.log.1");
        Files.move(live, rotated);
        long[] second = write(live, 11, 15);

        Cutover.Plan p = plan(new FilebeatFixture(0).set(s[0], s[1]), Map.of(), false);

        assertThat(p.results()).singleElement().extracting(Cutover.Result::outcome).isEqualTo(Cutover.Outcome.RESUME_ROTATED);
        Registry.Entry e = p.entries().get(ID);
        assertThat(e.fileId()).isEqualTo(FileIdentity.fingerprint(rotated));
        assertThat(e.offset()).isEqualTo(first[7]);
        assertThat(e.read()).containsExactly(new Registry.Read(e.fileId(), first[7], first[10]),
                new Registry.Read(FileIdentity.fingerprint(live), 0, second[5]));
    }

    @Test
    void statesOfBothFilesGiveEachItsOwnOffsetAndOlderFilesAreLeft() throws IOException {
        long[] oldest = write(live, 1, 3);
        Files.move(live, dir.resolve(ID + "-json.log.2"));
        long[] middle = write(live, 4, 8);
        String[] s1 = stateOf(live, source(ID), middle[5]);        // all of it acknowledged
        Path one = dir.resolve(ID + "-json.log.1");
        Files.move(live, one);
        long[] now = write(live, 9, 12);
        String[] s2 = stateOf(live, source(ID), now[2]);

        Cutover.Plan p = plan(new FilebeatFixture(4).inCheckpoint(s1[0], s1[1]).set(s2[0], s2[1]), Map.of(), false);

        Cutover.Result r = p.results().get(0);
        assertThat(r.outcome()).isEqualTo(Cutover.Outcome.RESUME_ROTATED);
        assertThat(r.detail()).contains("1 older rotated file before Filebeat's position left unread");
        Registry.Entry e = p.entries().get(ID);
        assertThat(e.fileId()).isEqualTo(FileIdentity.fingerprint(one));
        assertThat(e.offset()).isEqualTo(middle[5]);
        assertThat(e.read()).as("the older file was all acknowledged: only the newer one's rest")
                .containsExactly(new Registry.Read(FileIdentity.fingerprint(live), now[2], now[4]));
        assertThat(oldest[3]).isPositive();
    }

    @Test
    void filebeatsFileGoneFromDiskStartsAtTheOldestFileLeft() throws IOException {
        write(live, 1, 5);
        String[] s = stateOf(live, source(ID), 100);
        Files.delete(live);                                        // rotated away and deleted by Docker
        Path keep = dir.resolve("keep");
        Files.writeString(keep, "x");                              // holds the freed inode away from the new file, most of the time
        write(live, 6, 9);
        Files.delete(keep);
        if (inode(live) == Long.parseLong(s[0].replaceAll(".*::(\\d+)-.*", "$1"))) {
            return;                                                // the file system gave the inode back: nothing to test here
        }

        Cutover.Plan p = plan(new FilebeatFixture(0).set(s[0], s[1]), Map.of(), false);

        Cutover.Result r = p.results().get(0);
        assertThat(r.outcome()).isEqualTo(Cutover.Outcome.ROTATED_AWAY);
        assertThat(r.detail()).contains("no longer on disk").contains("from byte 0");
        assertThat(p.entries().get(ID).offset()).isZero();
        assertThat(p.entries().get(ID).fileId()).isEqualTo(FileIdentity.fingerprint(live));
    }

    @Test
    void anOffsetPastTheEndOrInsideALineIsRefused() throws IOException {
        long[] ends = write(live, 1, 3);
        String[] past = stateOf(live, source(ID), ends[3] + 10);
        Cutover.Plan p = plan(new FilebeatFixture(0).set(past[0], past[1]), Map.of(), false);
        assertThat(p.results().get(0).outcome()).isEqualTo(Cutover.Outcome.REFUSED);
        assertThat(p.results().get(0).detail()).contains("past the end");
        assertThat(p.entries()).isEmpty();
        assertThat(p.refusedAny()).isTrue();

        String[] inside = stateOf(live, source(ID), ends[1] + 3);
        p = plan(new FilebeatFixture(0).set(inside[0], inside[1]), Map.of(), false);
        assertThat(p.results().get(0).outcome()).isEqualTo(Cutover.Outcome.REFUSED);
        assertThat(p.results().get(0).detail()).contains("not just after a line");
    }

    @Test
    void theSameInodeOnAnotherDeviceIsRefusedNotGuessed() throws IOException {
        long[] ends = write(live, 1, 3);
        long ino = inode(live);
        long otherDevice = device(live) + 1;
        Cutover.Plan p = plan(new FilebeatFixture(0).set(containerKey(ino, otherDevice),
                containerState(source(ID), ino, otherDevice, ends[2])), Map.of(), false);
        assertThat(p.results().get(0).outcome()).isEqualTo(Cutover.Outcome.REFUSED);
        assertThat(p.results().get(0).detail()).contains("another mount");
        assertThat(p.entries()).isEmpty();
    }

    @Test
    void anExistingEntryIsKeptUnlessForced() throws IOException {
        long[] ends = write(live, 1, 3);
        String[] s = stateOf(live, source(ID), ends[2]);
        Map<String, Registry.Entry> existing = Map.of(ID, new Registry.Entry("0123456789abcdef", 42, live.toString()));
        FilebeatFixture f = new FilebeatFixture(0).set(s[0], s[1]);

        Cutover.Plan kept = plan(f, existing, false);
        assertThat(kept.results().get(0).outcome()).isEqualTo(Cutover.Outcome.EXISTS);
        assertThat(kept.results().get(0).detail()).contains("--force");
        assertThat(kept.entries()).isEmpty();

        Cutover.Plan forced = plan(f, existing, true);
        assertThat(forced.results().get(0).outcome()).isEqualTo(Cutover.Outcome.RESUME);
        assertThat(forced.results().get(0).detail()).contains("replaces logferry's existing entry");
        assertThat(forced.entries().get(ID).offset()).isEqualTo(ends[2]);
    }

    @Test
    void containersLogferryWouldNotShipOrThatAreGoneGetNoEntry() throws IOException {
        long[] ends = write(live, 1, 3);
        String[] s = stateOf(live, source(ID), ends[1]);
        FilebeatFixture f = new FilebeatFixture(0).set(s[0], s[1])
                .set(containerKey(999_999_999L, 1), containerState(source(OTHER), 999_999_999L, 1, 10))
                .set(containerKey(5, 1), containerState("/var/log/syslog", 5, 1, 10));

        candidates.put(ID, new Cutover.Candidate(ID, "web", false, "no include label", false));
        Cutover.Plan p = plan(f, Map.of(), false);
        assertThat(p.results()).extracting(Cutover.Result::outcome)
                .containsExactly(Cutover.Outcome.NOT_SELECTED, Cutover.Outcome.NO_CONTAINER);
        assertThat(p.results().get(0).detail()).contains("no include label");
        assertThat(p.notes()).singleElement().asString().contains("/var/log/syslog");
        assertThat(p.entries()).isEmpty();

        candidates.put(ID, new Cutover.Candidate(ID, "web", true, "", true));
        p = plan(f, Map.of(), false);
        assertThat(p.results().get(0).outcome()).isEqualTo(Cutover.Outcome.API);
        assertThat(p.entries()).isEmpty();
    }

    @Test
    void filestreamFingerprintIdentityMatchesTheFirst1024Bytes() throws IOException {
        long[] ends = write(live, 1, 40);
        assertThat(ends[40]).isGreaterThan(1024);
        String fp = Cutover.sha256Head(live);
        String nativeKey = "filestream::docker::native::" + inode(live) + "-" + device(live);

        Cutover.Plan p = plan(new FilebeatFixture(0)
                .set("filestream::docker::fingerprint::" + fp, filestreamState(source(ID), "fingerprint", ends[30])), Map.of(), false);
        assertThat(p.results().get(0).outcome()).isEqualTo(Cutover.Outcome.RESUME);
        assertThat(p.entries().get(ID).offset()).isEqualTo(ends[30]);

        p = plan(new FilebeatFixture(0).set(nativeKey, filestreamState(source(ID), "native", -1)), Map.of(), false);
        assertThat(p.results().get(0).outcome()).isEqualTo(Cutover.Outcome.RESUME);
        assertThat(p.results().get(0).detail()).contains("nothing acknowledged");
        assertThat(p.entries().get(ID).offset()).isZero();
    }

    @Test
    void theContainerIdComesFromTheSourcePathWhereverFilebeatMountedIt() {
        assertThat(Cutover.containerId("/hostfs/var/lib/docker/containers/" + ID + "/" + ID + "-json.log")).isEqualTo(ID);
        assertThat(Cutover.containerId("/var/lib/docker/containers/" + ID + "/" + ID + "-json.log.3")).isEqualTo(ID);
        assertThat(Cutover.containerId("/var/lib/docker/containers/" + ID + "/" + OTHER + "-json.log")).isNull();
        assertThat(Cutover.containerId("/var/log/" + ID + "-json.log")).isNull();
        assertThat(Cutover.containerId("/var/lib/docker/containers/" + ID + "/config.v2.json")).isNull();
    }

    @Test
    void dockerOrderIsHighestNumberFirstThenTheLiveFile() throws IOException {
        Files.writeString(dir.resolve(ID + "-json.log.1"), "");
        Files.writeString(dir.resolve(ID + "-json.log.10"), "");
        Files.writeString(dir.resolve(ID + "-json.log.2"), "");
        Files.writeString(dir.resolve(ID + "-json.log.x"), "");
        Files.writeString(live, "");
        assertThat(Cutover.dockerOrder(dir, ID)).extracting(q -> q.getFileName().toString())
                .containsExactly(ID + "-json.log.10", ID + "-json.log.2", ID + "-json.log.1", ID + "-json.log");
        assertThat(List.of()).isEmpty();
    }
}
