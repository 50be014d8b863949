package io.logferry.tail;

import io.logferry.registry.Registry;
import io.logferry.spool.Spool;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a resuming tailer starts and in what order it reads what is left of its container's log,
 * decided from the chain itself, never from the times of first lines (0 when a first line is
 * longer than the 64 KiB looked at; wrong after a clock step back):
 *
 * <pre>
 *   registry entry: committed file @ offset, then the files read and not acknowledged, in read order
 *   Docker's numbering on disk: -json.log.N ... -json.log.1, -json.log   (oldest first)
 *   spool: segments, each a byte range of one file (by fingerprint)
 *
 *   order = disk files older than the chain (accounted for: skipped, their segments deleted)
 *         | the chain's files, each from disk, else from its spooled copy, else LOST (with its byte range)
 *         | spooled files outside the chain and gone from disk (Docker deletes oldest first:
 *           older than every file still on disk; among themselves in the order they were spooled)
 *         | the disk files not in the chain, in Docker's order
 * </pre>
 *
 * A file both on disk and spooled is read from disk; its segments are {@code copies}. Nothing is
 * skipped without a {@link Loss}. Pure: the caller lists the directory and the spool.
 */
final class ResumePlan {
    /** A log file on disk and its fingerprint (null while it has no complete first line). */
    record OnDisk(Path path, String fileId) { }

    /**
     * One file to read, from {@code start}: on disk ({@code live}) or its spooled copy
     * ({@code segment}); {@code copies} are its other segments, deleted once it is acknowledged.
     */
    record Part(String fileId, Path live, Spool.Segment segment, List<Spool.Segment> copies, long start) { }

    /** Bytes {@code [from, to)} of the file {@code fileId} were read and not acknowledged, and neither Docker nor the spool has them; {@code to} 0: unknown. */
    record Loss(String fileId, long from, long to, String why) { }

    final List<OnDisk> older = new ArrayList<>();
    final List<Part> parts = new ArrayList<>();
    /** Segments of files before the committed one: acknowledged, to be deleted. */
    final List<Spool.Segment> acknowledged = new ArrayList<>();
    final List<Loss> losses = new ArrayList<>();

    private ResumePlan() { }

    /**
     * @param resume the registry's entry (null: none; the container is new or its entry predates any read)
     * @param disk the container's log files, in Docker's order (oldest first)
     * @param spooled the container's segments, in the order they were written
     * @param maxFiles Docker's {@code max-file} for the container (0: unknown)
     */
    static ResumePlan of(Registry.Entry resume, List<OnDisk> disk, List<Spool.Segment> spooled, int maxFiles) {
        ResumePlan plan = new ResumePlan();
        Map<String, Long> readFrom = new HashMap<>();
        Map<String, Long> readTo = new HashMap<>();
        Set<String> chain = new LinkedHashSet<>();
        if (resume != null) {
            chain.add(resume.fileId());
            readFrom.put(resume.fileId(), resume.offset());
            for (Registry.Read r : resume.read()) {
                chain.add(r.fileId());
                readFrom.putIfAbsent(r.fileId(), r.from());
                readTo.put(r.fileId(), r.to());
            }
        }
        Map<String, Integer> onDisk = new HashMap<>();
        for (int i = 0; i < disk.size(); i++) {
            if (disk.get(i).fileId() != null) {
                onDisk.putIfAbsent(disk.get(i).fileId(), i);
            }
        }
        Map<String, List<Spool.Segment>> segments = new LinkedHashMap<>();
        for (Spool.Segment s : spooled) {
            segments.computeIfAbsent(s.fileId(), k -> new ArrayList<>()).add(s);
        }
        // Docker deletes the oldest file first: the disk files before the first chain file still there are older
        int firstOfChain = disk.size();
        for (String id : chain) {
            firstOfChain = Math.min(firstOfChain, onDisk.getOrDefault(id, disk.size()));
        }
        if (firstOfChain == disk.size()) {
            firstOfChain = 0;                // none of the chain is left: every file on disk is newer
        }
        Set<String> used = new HashSet<>();
        for (int i = 0; i < firstOfChain; i++) {
            OnDisk d = disk.get(i);
            plan.older.add(d);
            used.add(d.fileId());
            plan.acknowledged.addAll(segments.getOrDefault(d.fileId(), List.of()));
        }
        // the chain, in the order it was read
        boolean legacy = resume != null && resume.read().isEmpty();
        String lastOfChain = null;
        for (String id : chain) {
            used.add(id);
            lastOfChain = id;
            long from = readFrom.getOrDefault(id, 0L);
            Integer at = onDisk.get(id);
            List<Spool.Segment> segs = segments.getOrDefault(id, List.of());
            if (at != null && at >= firstOfChain) {
                plan.parts.add(new Part(id, disk.get(at).path(), null, segs, from));
                continue;
            }
            if (!segs.isEmpty()) {
                Spool.Segment pick = covering(segs, from);
                List<Spool.Segment> others = new ArrayList<>(segs);
                others.remove(pick);
                plan.parts.add(new Part(id, null, pick, others, Math.max(from, pick.base())));
                continue;
            }
            boolean committedFile = resume != null && id.equals(resume.fileId());
            if (committedFile && !legacy && !readTo.containsKey(id)) {
                continue;                    // read to its end and acknowledged up to there: nothing of it is missing
            }
            plan.losses.add(new Loss(id, from, readTo.getOrDefault(id, 0L),
                    "Docker deleted it while the agent was not running, and it is not in the spool"));
        }
        // spooled files outside the chain, gone from disk: older than anything still there
        List<Spool.Segment> unknown = new ArrayList<>();
        for (Map.Entry<String, List<Spool.Segment>> e : segments.entrySet()) {
            if (!used.contains(e.getKey()) && !onDisk.containsKey(e.getKey())) {
                unknown.add(e.getValue().get(0));
            }
        }
        unknown.sort(Comparator.comparingLong(Spool.Segment::seq));
        for (Spool.Segment s : unknown) {
            List<Spool.Segment> others = new ArrayList<>(segments.get(s.fileId()));
            others.remove(s);
            plan.parts.add(new Part(s.fileId(), null, s, others, s.base()));
            used.add(s.fileId());
        }
        // what Docker wrote after the chain, in its order
        boolean gapPossible = lastOfChain != null && !onDisk.containsKey(lastOfChain) && maxFiles > 1 && disk.size() >= maxFiles;
        for (int i = firstOfChain; i < disk.size(); i++) {
            OnDisk d = disk.get(i);
            if (d.fileId() == null) {
                continue;                    // the live log without a line yet: the rotation watch hands it over when it has one
            }
            if (!used.contains(d.fileId())) {
                used.add(d.fileId());
                plan.parts.add(new Part(d.fileId(), d.path(), null, segments.getOrDefault(d.fileId(), List.of()), 0));
            }
        }
        if (gapPossible) {
            plan.losses.add(new Loss(null, 0, 0, "the last file read (" + lastOfChain + ") is gone from disk and Docker keeps all "
                    + maxFiles + " files (max-file): files rotated after it while the agent was not running may have been deleted unread"));
        }
        return plan;
    }

    /** The segment holding {@code at}, else the first starting after it, else the first. */
    private static Spool.Segment covering(List<Spool.Segment> segs, long at) {
        Spool.Segment after = null;
        for (Spool.Segment s : segs) {
            if (at >= s.base() && at < s.end()) {
                return s;
            }
            if (s.base() >= at && (after == null || s.base() < after.base())) {
                after = s;
            }
        }
        return after != null ? after : segs.get(0);
    }
}
