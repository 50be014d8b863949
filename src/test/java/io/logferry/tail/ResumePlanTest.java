package io.logferry.tail;

import io.logferry.registry.Registry;
import io.logferry.spool.Spool;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The resume order from the registry's chain, Docker's numbering and the spool: a pure function on made-up inputs. */
class ResumePlanTest {
    private static ResumePlan.OnDisk disk(String name, String fp) {
        return new ResumePlan.OnDisk(Path.of("/logs/c-json.log" + name), fp);
    }

    private static Spool.Segment seg(long seq, String fp, long base, long end, long time) {
        return new Spool.Segment(Path.of("/spool/c/" + seq + ".seg"), "c", seq, fp, base, end, time, 100);
    }

    private static List<String> order(ResumePlan p) {
        return p.parts.stream().map(x -> x.fileId() + (x.live() != null ? "@disk" : "@spool") + ":" + x.start()).toList();
    }

    @Test
    void theDeterministicScenarioReadsTheSpooledChainThenWhatDockerWroteMeanwhile() {
        // read A (deleted, spooled), B (rotated, spooled at the rotation), C (live at the kill, read to 9000); nothing acknowledged
        Registry.Entry e = new Registry.Entry("A", 0, "", List.of(new Registry.Read("A", 0, 100_000),
                new Registry.Read("B", 0, 100_000), new Registry.Read("C", 0, 9_000)));
        ResumePlan p = ResumePlan.of(e, List.of(disk(".1", "C"), disk("", "D")),
                List.of(seg(1, "A", 0, 100_000, 0), seg(2, "B", 0, 100_000, 0)), 2);
        assertThat(order(p)).containsExactly("A@spool:0", "B@spool:0", "C@disk:0", "D@disk:0");
        assertThat(p.losses).isEmpty();
    }

    @Test
    void aChainFileNeitherOnDiskNorSpooledIsALossWithItsByteRangeAndTheRestFollows() {
        Registry.Entry e = new Registry.Entry("A", 500, "", List.of(new Registry.Read("A", 500, 100_000),
                new Registry.Read("B", 0, 80_000)));
        ResumePlan p = ResumePlan.of(e, List.of(disk(".1", "C"), disk("", "D")), List.of(seg(1, "A", 500, 100_000, 0)), 2);
        assertThat(order(p)).containsExactly("A@spool:500", "C@disk:0", "D@disk:0");
        assertThat(p.losses).hasSize(2);
        assertThat(p.losses.get(0)).isEqualTo(new ResumePlan.Loss("B", 0, 80_000, p.losses.get(0).why()));
        assertThat(p.losses.get(1).fileId()).as("B gone and every max-file slot used: files after it may be gone unread").isNull();
    }

    @Test
    void orderIsDockersNumberingNotTheFirstLinesTime() {
        // times say C is oldest (a first line over 64 KiB reads as 0; or the clock stepped back): the numbering wins
        ResumePlan p = ResumePlan.of(new Registry.Entry("B", 10, ""), List.of(disk(".2", "A"), disk(".1", "B"), disk("", "C")),
                List.of(seg(1, "A", 0, 50, 0)), 3);
        assertThat(order(p)).containsExactly("B@disk:10", "C@disk:0");
        assertThat(p.older).extracting(ResumePlan.OnDisk::fileId).containsExactly("A");
        assertThat(p.acknowledged).extracting(Spool.Segment::fileId).containsExactly("A");
        assertThat(p.losses).isEmpty();
    }

    @Test
    void withoutARegistryEntryTheSpoolGoesFirstInTheOrderItWasWrittenThenTheDisk() {
        ResumePlan p = ResumePlan.of(null, List.of(disk("", "C")),
                List.of(seg(2, "B", 0, 10, 0), seg(1, "A", 0, 10, 99), seg(3, "C", 0, 5, 0)), 0);
        assertThat(order(p)).containsExactly("A@spool:0", "B@spool:0", "C@disk:0");
        assertThat(p.parts.get(2).copies()).extracting(Spool.Segment::seq).containsExactly(3L);
    }

    @Test
    void aCommittedFileReadToItsEndIsNotALossWhenDockerDeletedIt() {
        Registry.Entry e = new Registry.Entry("A", 100_000, "", List.of(new Registry.Read("B", 0, 4_000)));
        ResumePlan p = ResumePlan.of(e, List.of(disk(".1", "B"), disk("", "C")), List.of(), 2);
        assertThat(order(p)).containsExactly("B@disk:0", "C@disk:0");
        assertThat(p.losses).isEmpty();
    }

    @Test
    void aRegistryEntryOfAnEarlierVersionWhoseFileIsGoneIsReportedLost() {
        ResumePlan p = ResumePlan.of(new Registry.Entry("gone", 100, ""), List.of(disk("", "C")), List.of(), 0);
        assertThat(order(p)).containsExactly("C@disk:0");
        assertThat(p.losses).extracting(ResumePlan.Loss::fileId).containsExactly("gone");
    }

    @Test
    void theLiveLogWithoutALineYetIsLeftToTheRotationWatch() {
        ResumePlan p = ResumePlan.of(new Registry.Entry("B", 10, ""), List.of(disk(".1", "B"), disk("", null)), List.of(), 2);
        assertThat(order(p)).containsExactly("B@disk:10");
    }
}
