package io.logferry.migrate;

import io.logferry.registry.Registry;
import io.logferry.tail.FileIdentity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Filebeat's file states into logferry's registry entries, one container at a time, so that
 * logferry resumes exactly where Filebeat's acknowledgements ended. Filebeat's offset of a file is
 * the byte after the last line the output acknowledged (the raw json-file bytes, as logferry's
 * cursor), so it becomes logferry's cursor in the same file, the file named by logferry's own
 * fingerprint of its first line.
 *
 * <pre>
 *   Filebeat state (source .../&lt;id&gt;/&lt;id&gt;-json.log, inode/device or filestream fingerprint, offset)
 *        │ grouped by the container id in the source path
 *        ▼
 *   container gone? ─► NO_CONTAINER      not selected by logferry? ─► NOT_SELECTED     read via the API? ─► API
 *   logferry's registry already has it (and no --force)? ─► EXISTS
 *        ▼
 *   the container's files on disk, Docker's order (-json.log.N ... .1, -json.log), each matched to a state by
 *   inode+device (log/container input, filestream native) or by SHA-256 of its first 1024 bytes (filestream fingerprint)
 *        │ none matches ──► ROTATED_AWAY: Filebeat's files are gone; every file on disk from byte 0
 *        │   (but a file with a state's inode on another device ──► REFUSED: another mount, or another file?)
 *        │ an offset past a file's end, or not after a newline ──► REFUSED (inode reused? another file?)
 *        ▼
 *   RESUME (the oldest matched file is the live one) / RESUME_ROTATED (it is a rotated one):
 *   entry = that file @ Filebeat's offset; each newer file in the entry's read chain from its own offset, or 0
 *   (files older than the oldest matched one: before Filebeat's position, left unread)
 * </pre>
 *
 * Reads the container directories; writes nothing. Not thread-safe (one call at a time).
 */
public final class Cutover {
    /** What happens to one container. */
    public enum Outcome {
        /** Resumes in the live log at Filebeat's offset. */
        RESUME,
        /** Filebeat's file was rotated by Docker and is still on disk: resumes in it, then the newer files. */
        RESUME_ROTATED,
        /** Filebeat's files are gone from disk: every file left is read from its first byte. */
        ROTATED_AWAY,
        /** Nothing to write: the container has no log file with a line yet. */
        NO_FILE,
        NO_CONTAINER,
        NOT_SELECTED,
        API,
        EXISTS,
        REFUSED;

        /** An outcome that leaves an entry written. */
        public boolean writes() {
            return this == RESUME || this == RESUME_ROTATED || this == ROTATED_AWAY;
        }
    }

    /** What logferry knows of a container Filebeat's states name: from Docker and the {@code Selector}. */
    public record Candidate(String id, String name, boolean selected, String whyNot, boolean api) { }

    /** One container's outcome and the line the summary prints for it. */
    public record Result(String containerId, String name, Outcome outcome, String detail) {
        public String line() {
            String who = (name == null || name.isEmpty() ? "" : name + " ") + containerId.substring(0, Math.min(12, containerId.length()));
            return String.format("  %-14s %s: %s", outcome.name().toLowerCase(), who, detail);
        }
    }

    /** The results (by container id), the entries to write, and the states that are not a container's log. */
    public record Plan(List<Result> results, Map<String, Registry.Entry> entries, List<String> notes) {
        public Plan {
            results = List.copyOf(results);
            entries = Map.copyOf(entries);
            notes = List.copyOf(notes);
        }

        public boolean refusedAny() {
            return results.stream().anyMatch(r -> r.outcome() == Outcome.REFUSED || r.outcome() == Outcome.EXISTS);
        }
    }

    /** A container's json-file log as Filebeat's source names it: {@code .../<id>/<id>-json.log}, maybe rotated ({@code .N}). */
    private static final Pattern SOURCE = Pattern.compile(".*/([0-9a-f]{64})/\\1-json\\.log(\\.\\d+)?");
    /** filestream's default fingerprint: SHA-256 of the first 1024 bytes ({@code prospector.scanner.fingerprint}). */
    static final int FINGERPRINT_LENGTH = 1024;

    private final Path containersPath;

    /** @param containersPath logferry's {@code docker.containers_path} (Filebeat may have seen the same files under another path) */
    public Cutover(Path containersPath) {
        this.containersPath = containersPath;
    }

    /** The container id of a Filebeat state's source path, or null when it is not a Docker json-file log. */
    public static String containerId(String source) {
        Matcher m = SOURCE.matcher(source);
        return m.matches() ? m.group(1) : null;
    }

    /**
     * @param states Filebeat's states
     * @param candidates what logferry knows of each container, by id; a container not in it no longer exists
     * @param existing logferry's registry as it is
     * @param force replace existing entries of logferry's registry
     */
    public Plan plan(List<FilebeatRegistry.State> states, Map<String, Candidate> candidates, Map<String, Registry.Entry> existing,
                     boolean force) {
        Map<String, List<FilebeatRegistry.State>> byContainer = new TreeMap<>();
        List<String> notes = new ArrayList<>();
        for (FilebeatRegistry.State s : states) {
            String id = containerId(s.source());
            if (id == null) {
                notes.add("not a Docker container log, ignored: " + s.source() + " (" + s.key() + ")");
                continue;
            }
            byContainer.computeIfAbsent(id, k -> new ArrayList<>()).add(s);
        }
        List<Result> results = new ArrayList<>();
        Map<String, Registry.Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, List<FilebeatRegistry.State>> e : byContainer.entrySet()) {
            String id = e.getKey();
            Candidate c = candidates.get(id);
            String name = c == null ? "" : c.name();
            if (c == null) {
                results.add(new Result(id, name, Outcome.NO_CONTAINER, "the container no longer exists; nothing to resume"));
                continue;
            }
            if (!c.selected()) {
                results.add(new Result(id, name, Outcome.NOT_SELECTED, "logferry would not ship it (" + c.whyNot()
                        + "); no entry written (selected later, it starts as a new container)"));
                continue;
            }
            if (c.api()) {
                results.add(new Result(id, name, Outcome.API, "logferry reads it through the Docker logs API (docker.read_mode),"
                        + " whose cursor is a time, not Filebeat's byte offset; no entry written"));
                continue;
            }
            if (existing.containsKey(id) && !force) {
                Registry.Entry x = existing.get(id);
                results.add(new Result(id, name, Outcome.EXISTS, "logferry's registry already has it (file " + x.fileId() + " at byte "
                        + x.offset() + "); kept as it is (--force replaces it)"));
                continue;
            }
            try {
                Result r = container(id, name, e.getValue(), entries);
                if (r.outcome().writes() && existing.containsKey(id)) {
                    r = new Result(id, name, r.outcome(), r.detail() + "; replaces logferry's existing entry (--force)");
                }
                results.add(r);
            } catch (IOException ex) {
                results.add(new Result(id, name, Outcome.REFUSED, "its log files cannot be read here (" + ex + "); no entry written"));
            }
        }
        return new Plan(results, entries, notes);
    }

    /** One of a container's log files on disk, in Docker's order, with the Filebeat state matched to it (or none). */
    private record OnDisk(Path path, long inode, long device, long size, FilebeatRegistry.State state) { }

    private Result container(String id, String name, List<FilebeatRegistry.State> states, Map<String, Registry.Entry> entries)
            throws IOException {
        Path dir = containersPath.resolve(id);
        Path live = dir.resolve(id + "-json.log");
        List<OnDisk> files = new ArrayList<>();
        for (Path p : dockerOrder(dir, id)) {
            long ino = ((Number) Files.getAttribute(p, "unix:ino")).longValue();
            long dev = ((Number) Files.getAttribute(p, "unix:dev")).longValue();
            long size = Files.size(p);
            FilebeatRegistry.State match = null;
            for (FilebeatRegistry.State s : states) {
                boolean same = switch (s.identity()) {
                    case NATIVE -> s.inode() == ino && s.device() == dev;
                    case FINGERPRINT -> size >= FINGERPRINT_LENGTH && s.fingerprint().equals(sha256Head(p));
                    case OTHER -> false;
                };
                // two inputs on the same file: the lower offset, so that nothing is skipped
                if (same && (match == null || s.offset() < match.offset())) {
                    match = s;
                }
            }
            files.add(new OnDisk(p, ino, dev, size, match));
        }
        int first = -1;
        for (int i = 0; i < files.size(); i++) {
            if (files.get(i).state() != null) {
                first = i;
                break;
            }
        }
        String filebeatSaw = states.stream().map(s -> s.identity() == FilebeatRegistry.Identity.FINGERPRINT
                ? "fingerprint " + s.fingerprint().substring(0, 12) : "inode " + s.inode() + " device " + s.device())
                .distinct().reduce((a, b) -> a + ", " + b).orElse("");
        Outcome outcome;
        StringBuilder detail = new StringBuilder();
        if (first < 0) {
            for (OnDisk f : files) {
                for (FilebeatRegistry.State s : states) {
                    if (s.identity() == FilebeatRegistry.Identity.NATIVE && s.inode() == f.inode() && s.device() != f.device()) {
                        return new Result(id, name, Outcome.REFUSED, shortName(f.path(), id) + " has Filebeat's inode " + f.inode()
                                + " on device " + f.device() + ", Filebeat recorded device " + s.device() + ": the same file seen"
                                + " through another mount, or another file; not decided here, no entry written");
                    }
                }
            }
            first = 0;
            outcome = Outcome.ROTATED_AWAY;
            detail.append("Filebeat's file (").append(filebeatSaw).append(") is no longer on disk: Docker rotated it and deleted it;"
                    + " what Filebeat had not acknowledged of it cannot be read by anyone");
        } else {
            OnDisk f = files.get(first);
            outcome = f.path().equals(live) ? Outcome.RESUME : Outcome.RESUME_ROTATED;
        }
        // every matched offset must be inside its file and just after a line
        for (OnDisk f : files) {
            if (f.state() == null || f.state().offset() <= 0) {
                continue;
            }
            long off = f.state().offset();
            if (off > f.size()) {
                return new Result(id, name, Outcome.REFUSED, "Filebeat's offset " + off + " is past the end of " + shortName(f.path(), id)
                        + " (" + f.size() + " bytes, inode " + f.inode() + "): the inode was reused or the file is not the one Filebeat"
                        + " read; no entry written");
            }
            if (!newlineBefore(f.path(), off)) {
                return new Result(id, name, Outcome.REFUSED, "Filebeat's offset " + off + " in " + shortName(f.path(), id)
                        + " is not just after a line (Docker writes whole lines): not the file Filebeat read; no entry written");
            }
        }
        String fileId = null;
        long offset = 0;
        int committed = -1;
        List<Registry.Read> read = new ArrayList<>();
        List<String> parts = new ArrayList<>();
        for (int i = first; i < files.size(); i++) {
            OnDisk f = files.get(i);
            String fp = FileIdentity.fingerprint(f.path());
            long from = f.state() == null || f.state().offset() < 0 ? 0 : f.state().offset();
            if (fp == null) {
                continue;                    // no complete first line yet: nothing of it was read by anyone; logferry finds it itself
            }
            String what = shortName(f.path(), id) + (from == 0 ? " from byte 0" : " at byte " + from) + " of " + f.size()
                    + (f.state() == null ? "" : " (Filebeat's " + f.state().input() + " input" + (f.state().offset() < 0 ? ", nothing acknowledged" : "") + ")");
            parts.add(what);
            if (fileId == null) {
                fileId = fp;
                offset = from;
                committed = i;
                if (from < f.size()) {
                    // its unread rest is in the chain too, as the agent records it: gone at the start, it is reported LOST with its range
                    read.add(new Registry.Read(fp, from, f.size()));
                }
            } else {
                read.add(new Registry.Read(fp, from, f.size()));
            }
        }
        if (fileId == null) {
            return new Result(id, name, Outcome.NO_FILE, (outcome == Outcome.ROTATED_AWAY ? detail + "; " : "")
                    + "no log file with a complete line on disk; no entry written (it starts as a new container)");
        }
        if (detail.length() > 0) {
            detail.append("; ");
        }
        detail.append("resumes in ").append(String.join(", then ", parts));
        if (committed > 0 && outcome != Outcome.ROTATED_AWAY) {
            detail.append("; ").append(committed).append(committed == 1 ? " older rotated file" : " older rotated files")
                    .append(" before Filebeat's position left unread");
        }
        entries.put(id, new Registry.Entry(fileId, offset, live.toString(), read));
        return new Result(id, name, outcome, detail.toString());
    }

    /** {@code -json.log.N} ... {@code -json.log.1}, then {@code -json.log}: oldest first, the files that exist. */
    static List<Path> dockerOrder(Path dir, String id) throws IOException {
        TreeMap<Integer, Path> rotated = new TreeMap<>(java.util.Comparator.reverseOrder());
        if (Files.isDirectory(dir)) {
            String prefix = id + "-json.log.";
            try (var list = Files.list(dir)) {
                for (Path p : (Iterable<Path>) list::iterator) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(prefix) && n.substring(prefix.length()).matches("\\d{1,6}") && Files.isRegularFile(p)) {
                        rotated.put(Integer.parseInt(n.substring(prefix.length())), p);
                    }
                }
            }
        }
        List<Path> out = new ArrayList<>(rotated.values());
        Path live = dir.resolve(id + "-json.log");
        if (Files.isRegularFile(live)) {
            out.add(live);
        }
        return out;
    }

    /** {@code <id>-json.log.1} as {@code ...-json.log.1}: the id is on the line already. */
    private static String shortName(Path p, String id) {
        return p.getFileName().toString().replace(id, "...");
    }

    private static boolean newlineBefore(Path p, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            return ch.read(b, offset - 1) == 1 && b.get(0) == '\n';
        }
    }

    /** SHA-256 (hex) of the file's first {@value #FINGERPRINT_LENGTH} bytes, as filestream's fingerprint identity. */
    static String sha256Head(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(FINGERPRINT_LENGTH);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // fill
            }
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(b.array(), 0, b.position());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
